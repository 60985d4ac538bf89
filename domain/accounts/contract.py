"""Contracts: how an account pays and how long it is bound.

- prepaid: no base fee, no term; credit bought in packages.
- postpaid: billed monthly; minimum term of 12 months, after that cancellable to the end of a
  month with two weeks' notice; optional minimum monthly revenue; daily and monthly send limits
  in SMS parts (Europe/Berlin days and months).
- small-volume: a monthly base fee, at most 1,000 SMS parts a month, cancellable to the end of a
  month with two weeks' notice.

``earliest_end`` answers "if I give notice today, when does my contract end?" for any date.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, replace
from datetime import date, timedelta

from domain.accounts.exceptions import InvalidContractError, InvalidLimitError

SMALL_VOLUME_MONTHLY_PARTS = 1_000
NOTICE = timedelta(weeks=2)


class ContractType(enum.StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"
    SMALL_VOLUME = "small_volume"


@dataclass(frozen=True)
class Limits:
    daily_parts: int | None = None
    monthly_parts: int | None = None

    def validate(self) -> None:
        for name, value in (("daily", self.daily_parts), ("monthly", self.monthly_parts)):
            if value is not None and value <= 0:
                raise InvalidLimitError(f"the {name} limit must be positive (got {value})")

    def within(self, ceiling: Limits) -> bool:
        return _le(self.daily_parts, ceiling.daily_parts) and _le(
            self.monthly_parts, ceiling.monthly_parts
        )


def _le(value: int | None, ceiling: int | None) -> bool:
    if ceiling is None:
        return True
    return value is not None and value <= ceiling


@dataclass(frozen=True)
class Contract:
    type: ContractType
    starts_on: date
    minimum_term_months: int = 0
    minimum_monthly_revenue: int = 0
    base_fee: int = 0
    limits: Limits = Limits()

    @staticmethod
    def prepaid(starts_on: date) -> Contract:
        return Contract(ContractType.PREPAID, starts_on)

    @staticmethod
    def postpaid(
        starts_on: date,
        *,
        daily_parts: int | None,
        monthly_parts: int | None,
        minimum_monthly_revenue: int = 0,
        minimum_term_months: int = 12,
    ) -> Contract:
        contract = Contract(
            ContractType.POSTPAID,
            starts_on,
            minimum_term_months=minimum_term_months,
            minimum_monthly_revenue=minimum_monthly_revenue,
            limits=Limits(daily_parts, monthly_parts),
        )
        contract.validate()
        return contract

    @staticmethod
    def small_volume(starts_on: date, *, base_fee: int, daily_parts: int | None = None) -> Contract:
        contract = Contract(
            ContractType.SMALL_VOLUME,
            starts_on,
            base_fee=base_fee,
            limits=Limits(daily_parts, SMALL_VOLUME_MONTHLY_PARTS),
        )
        contract.validate()
        return contract

    def validate(self) -> None:
        self.limits.validate()
        if self.minimum_term_months < 0 or self.minimum_monthly_revenue < 0 or self.base_fee < 0:
            raise InvalidContractError("terms, revenues and fees cannot be negative")
        if self.type is ContractType.PREPAID and (self.base_fee or self.minimum_term_months):
            raise InvalidContractError("a prepaid contract has no base fee and no term")
        if self.type is ContractType.POSTPAID and self.minimum_term_months < 1:
            raise InvalidContractError("a postpaid contract has a minimum term")
        if self.type is ContractType.SMALL_VOLUME:
            if self.base_fee <= 0:
                raise InvalidContractError("a small-volume contract has a monthly base fee")
            monthly = self.limits.monthly_parts
            if monthly is None or monthly > SMALL_VOLUME_MONTHLY_PARTS:
                raise InvalidLimitError(
                    f"a small-volume contract allows at most {SMALL_VOLUME_MONTHLY_PARTS} "
                    "SMS parts a month"
                )

    def with_limits(self, limits: Limits) -> Contract:
        contract = replace(self, limits=limits)
        contract.validate()
        return contract

    @property
    def minimum_term_ends_on(self) -> date:
        """The last day of the minimum term (the day before its anniversary)."""
        if self.minimum_term_months == 0:
            return self.starts_on - timedelta(days=1)
        return add_months(self.starts_on, self.minimum_term_months) - timedelta(days=1)

    def earliest_end(self, notice_given_on: date) -> date:
        """The earliest day the contract can end when notice is given on ``notice_given_on``:
        prepaid ends at once; otherwise the last day of the first month that ends on or after
        both the minimum term's last day and two weeks after the notice."""
        if self.type is ContractType.PREPAID:
            return notice_given_on
        not_before = max(self.minimum_term_ends_on, notice_given_on + NOTICE)
        return end_of_month(not_before)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
