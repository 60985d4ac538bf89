"""How an account pays, and the SMS-part counters that bound postpaid and small-volume sends.

Limits count SMS parts per Europe/Berlin calendar day and month (the customer's days, not UTC's).
A hold counts in the period it was placed in; a return gives parts back to that same period.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.ledger.exceptions import SendLimitExceededError

BERLIN = ZoneInfo("Europe/Berlin")


class Billing(enum.StrEnum):
    PREPAID = "prepaid"
    POSTPAID = "postpaid"
    SMALL_VOLUME = "small_volume"


@dataclass(frozen=True)
class UsageCounter:
    day: date | None = None
    day_parts: int = 0
    month: str = ""
    month_parts: int = 0

    @staticmethod
    def period_of(now: datetime) -> tuple[date, str]:
        local = now.astimezone(BERLIN)
        return local.date(), f"{local.year:04d}-{local.month:02d}"

    def used(self, day: date, month: str) -> tuple[int, int]:
        return (
            self.day_parts if self.day == day else 0,
            self.month_parts if self.month == month else 0,
        )

    def check(
        self, day: date, month: str, parts: int, daily: int | None, monthly: int | None
    ) -> None:
        used_day, used_month = self.used(day, month)
        if daily is not None and used_day + parts > daily:
            raise SendLimitExceededError("daily", daily, used_day, parts)
        if monthly is not None and used_month + parts > monthly:
            raise SendLimitExceededError("monthly", monthly, used_month, parts)

    def add(self, day: date, month: str, parts: int) -> UsageCounter:
        """Count ``parts`` (negative: give back) in the given period; older periods drop out."""
        counter = self
        if self.day is None or day > self.day:
            counter = replace(counter, day=day, day_parts=0)
        if not self.month or month > self.month:
            counter = replace(counter, month=month, month_parts=0)
        if counter.day == day:
            counter = replace(counter, day_parts=max(0, counter.day_parts + parts))
        if counter.month == month:
            counter = replace(counter, month_parts=max(0, counter.month_parts + parts))
        return counter
