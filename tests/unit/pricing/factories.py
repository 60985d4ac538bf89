"""A small, explicit price list for tests whose figures must not depend on the shipped data."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.phone.destinations import DestinationRules
from domain.phone.number import NumberType
from domain.phone.parser import PhoneNumberParser
from domain.pricing.preview import PreviewRules
from domain.pricing.pricelist import PriceBook, PriceList, Rate, VolumeTier
from domain.tariff import Tariff

MOBILE, FIXED = NumberType.MOBILE, NumberType.FIXED_LINE
ECONOMY, QUALITY, HIGH = Tariff.ECONOMY, Tariff.QUALITY, Tariff.HIGH_QUALITY

JAN_2025 = datetime(2025, 1, 1, tzinfo=UTC)
JUL_2025 = datetime(2025, 7, 1, tzinfo=UTC)
NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)

DE_QUALITY_TIERS = (VolumeTier(0, 790), VolumeTier(10_000, 740), VolumeTier(100_000, 690))


def price_list(
    version: str = "test", valid_from: datetime = JAN_2025, valid_until: datetime | None = None
) -> PriceList:
    return PriceList(
        version,
        valid_from,
        valid_until,
        [
            Rate(QUALITY, "DE", MOBILE, DE_QUALITY_TIERS),
            Rate(ECONOMY, "DE", MOBILE, (VolumeTier(0, 590),)),
            Rate(HIGH, "DE", MOBILE, (VolumeTier(0, 890),)),
            Rate(QUALITY, "DE", FIXED, (VolumeTier(0, 990),)),
            Rate(QUALITY, "AT", MOBILE, (VolumeTier(0, 890),)),
            Rate(QUALITY, "*", MOBILE, (VolumeTier(0, 1_490),)),
        ],
    )


def preview_rules() -> PreviewRules:
    return PreviewRules(
        prices=PriceBook([price_list()]),
        destinations=DestinationRules(
            blocked=frozenset({"KP"}),
            sender_registration_required=frozenset({"IN"}),
            without_delivery_reports=frozenset({"AT"}),
        ),
        numbers=PhoneNumberParser(),
    )
