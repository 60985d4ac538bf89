"""Errors of pricing: price lists, their versions and the destinations they price."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar


class PricingError(Exception):
    """Base class: a price cannot be given."""

    code: ClassVar[str] = "pricing"


class NoPriceError(PricingError):
    """A message is only sent to destinations the price list prices in the chosen tariff."""

    code: ClassVar[str] = "no-price"

    def __init__(self, reason: str, *, tariff: str, region: str, number_type: str) -> None:
        super().__init__(reason)
        self.tariff: str = tariff
        self.region: str = region
        self.number_type: str = number_type


class FixedLineNotOfferedError(NoPriceError):
    """SMS to fixed-line numbers are offered only to German fixed-line numbers, and only in a
    tariff whose price list includes them."""

    code: ClassVar[str] = "fixed-line-not-offered"


class NoPriceListError(PricingError):
    """Some price list version must be valid at the time of the quote."""

    code: ClassVar[str] = "no-price-list"

    def __init__(self, at: datetime) -> None:
        super().__init__(f"no price list is valid at {at.isoformat()}")
        self.at: datetime = at


class InvalidPriceListError(PricingError):
    """A price list has non-negative integer prices, tiers starting at 0 parts in ascending
    order, fixed-line prices only for Germany, one rate per tariff, country and number type,
    timezone-aware validity, and versions whose validity periods do not overlap."""

    code: ClassVar[str] = "invalid-price-list"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason: str = reason
