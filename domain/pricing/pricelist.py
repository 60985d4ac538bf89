"""Versioned price lists: a net price per SMS part by tariff, country and number type.

A ``PriceList`` version is valid from ``valid_from`` (inclusive) until ``valid_until``
(exclusive, open-ended when ``None``); a ``PriceBook`` holds non-overlapping versions and picks
the one valid at a given time. Each ``Rate`` has volume tiers measured on the account's parts
sent in the calendar month: ``VolumeTier(from_parts, price)`` prices every part sent after
``from_parts`` parts this month. Tiers are graduated, part by part, so a send that crosses a
boundary pays the lower price only for the parts past it; the same part is never priced twice
whatever the batch sizes, and a quote equals the sum of its recipients' charges.

Number types priced are mobile and fixed line. Fixed-line rates exist only for Germany (``DE``)
and only in tariffs that list them; the region ``*`` prices mobile numbers of every country
without a rate of its own. Prices are integers in 1/10,000 EUR, net of VAT.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.phone.number import NumberType
from domain.pricing.exceptions import (
    FixedLineNotOfferedError,
    InvalidPriceListError,
    NoPriceError,
    NoPriceListError,
)
from domain.tariff import Tariff

FIXED_LINE_REGION = "DE"
ANY_REGION = "*"


@dataclass(frozen=True, slots=True)
class VolumeTier:
    from_parts: int
    """Parts already sent this calendar month from which on ``price`` applies."""
    price: int
    """Net price per part in 1/10,000 EUR."""


@dataclass(frozen=True, slots=True)
class Rate:
    tariff: Tariff
    region: str
    number_type: NumberType
    tiers: tuple[VolumeTier, ...]
    _starts: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = tuple(t.from_parts for t in self.tiers)
        where = f"{self.tariff}/{self.region}/{self.number_type}"
        if not starts or starts[0] != 0:
            raise InvalidPriceListError(f"{where}: the first tier must start at 0 parts")
        if any(b <= a for a, b in itertools.pairwise(starts)):
            raise InvalidPriceListError(f"{where}: tiers must be in ascending order")
        if any(t.price < 0 for t in self.tiers):
            raise InvalidPriceListError(f"{where}: prices cannot be negative")
        object.__setattr__(self, "_starts", starts)

    def cost(self, month_volume: int, parts: int) -> int:
        """Net price of ``parts`` parts after ``month_volume`` parts this month, part by part."""
        index = bisect_right(self._starts, month_volume) - 1
        starts, tiers = self._starts, self.tiers
        if index + 1 == len(starts) or month_volume + parts <= starts[index + 1]:
            return parts * tiers[index].price  # the common case: no boundary crossed
        total, position, remaining = 0, month_volume, parts
        while remaining:
            end = starts[index + 1] if index + 1 < len(starts) else position + remaining
            take = min(remaining, end - position)
            total += take * tiers[index].price
            position += take
            remaining -= take
            index += 1
        return total

    def parts_for(self, budget: int, month_volume: int) -> int:
        """How many parts ``budget`` buys after ``month_volume`` parts this month, part by
        part into the cheaper tiers ("Restvolumen" at the price the account actually pays)."""
        index = bisect_right(self._starts, month_volume) - 1
        starts, tiers = self._starts, self.tiers
        parts, position, left = 0, month_volume, budget
        while left > 0:
            price = tiers[index].price
            if price == 0:
                return parts  # a free tier: no count to give (the price lists have none)
            affordable = left // price
            if index + 1 == len(starts) or affordable < starts[index + 1] - position:
                return parts + affordable  # the budget ends inside this tier
            room = starts[index + 1] - position
            parts, position, left = parts + room, position + room, left - room * price
            index += 1
        return parts


class PriceList:
    """One version of the prices; ``rate_for`` finds the rate a recipient is charged at."""

    __slots__ = ("_rates", "valid_from", "valid_until", "version")

    def __init__(
        self,
        version: str,
        valid_from: datetime,
        valid_until: datetime | None,
        rates: Iterable[Rate],
    ) -> None:
        if valid_from.tzinfo is None or (valid_until is not None and valid_until.tzinfo is None):
            raise InvalidPriceListError(f"version {version}: validity needs a timezone")
        if valid_until is not None and valid_until <= valid_from:
            raise InvalidPriceListError(f"version {version}: valid_until is not after valid_from")
        self.version = version
        self.valid_from = valid_from
        self.valid_until = valid_until
        self._rates: dict[tuple[Tariff, str, NumberType], Rate] = {}
        for rate in rates:
            key = (rate.tariff, rate.region, rate.number_type)
            if key in self._rates:
                raise InvalidPriceListError(f"version {version}: two rates for {key}")
            if rate.number_type is NumberType.OTHER:
                raise InvalidPriceListError(f"version {version}: only mobile and fixed_line")
            if rate.number_type is NumberType.FIXED_LINE and rate.region != FIXED_LINE_REGION:
                raise InvalidPriceListError(
                    f"version {version}: fixed-line SMS are only offered in {FIXED_LINE_REGION}"
                )
            self._rates[key] = rate

    @property
    def rates(self) -> tuple[Rate, ...]:
        return tuple(self._rates.values())

    def is_valid_at(self, at: datetime) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)

    def rate_for(self, tariff: Tariff, region: str, number_type: NumberType) -> Rate:
        rate = self._rates.get((tariff, region, number_type))
        if rate is not None:
            return rate
        if number_type is NumberType.MOBILE:
            rate = self._rates.get((tariff, ANY_REGION, number_type))
            if rate is not None:
                return rate
        raise _no_price(tariff, region, number_type)

    def list_price(
        self, tariff: Tariff, region: str = "DE", number_type: NumberType = NumberType.MOBILE
    ) -> int:
        """The first tier's price of one part: the price of an SMS before volume discounts
        (the remaining credit is counted at the tier reached: ``Rate.parts_for``)."""
        return self.rate_for(tariff, region, number_type).tiers[0].price


def _no_price(tariff: Tariff, region: str, number_type: NumberType) -> NoPriceError:
    names = {"tariff": str(tariff), "region": region, "number_type": str(number_type)}
    if number_type is NumberType.FIXED_LINE:
        if region != FIXED_LINE_REGION:
            reason = "SMS to fixed-line numbers are only offered for German numbers"
        else:
            reason = f"tariff {tariff} does not include SMS to German fixed-line numbers"
        return FixedLineNotOfferedError(reason, **names)
    if number_type is NumberType.OTHER:
        reason = "SMS are only offered to mobile numbers (and German fixed-line numbers)"
    else:
        reason = f"no price for SMS to {region} in tariff {tariff}"
    return NoPriceError(reason, **names)


class PriceBook:
    """All versions of the price list; ``at`` gives the one valid at a time."""

    __slots__ = ("versions",)

    def __init__(self, versions: Iterable[PriceList]) -> None:
        ordered = tuple(sorted(versions, key=lambda v: v.valid_from))
        for earlier, later in itertools.pairwise(ordered):
            if earlier.valid_until is None or earlier.valid_until > later.valid_from:
                raise InvalidPriceListError(
                    f"versions {earlier.version} and {later.version} overlap"
                )
        self.versions = ordered

    def at(self, moment: datetime) -> PriceList:
        for version in reversed(self.versions):
            if version.is_valid_at(moment):
                return version
        raise NoPriceListError(moment)
