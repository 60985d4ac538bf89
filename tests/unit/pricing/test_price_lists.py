from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.phone.number import NumberType
from domain.pricing.exceptions import (
    FixedLineNotOfferedError,
    InvalidPriceListError,
    NoPriceError,
    NoPriceListError,
)
from domain.pricing.pricelist import PriceBook, PriceList, Rate, VolumeTier
from domain.pricing.quote import Quote
from tests.unit.pricing.factories import (
    DE_QUALITY_TIERS,
    ECONOMY,
    FIXED,
    HIGH,
    JAN_2025,
    JUL_2025,
    MOBILE,
    NOW,
    QUALITY,
    price_list,
)

DE_QUALITY = Rate(QUALITY, "DE", MOBILE, DE_QUALITY_TIERS)


@pytest.mark.parametrize(
    ("month_volume", "parts", "cost"),
    [
        (0, 1, 790),
        (0, 3, 2_370),
        (9_999, 1, 790),  # the 10,000th part of the month is still in the first tier
        (10_000, 1, 740),  # the 10,001st is in the second
        (9_999, 2, 790 + 740),
        (9_998, 3, 790 * 2 + 740),
        (99_999, 2, 740 + 690),
        (9_000, 100_000, 1_000 * 790 + 90_000 * 740 + 9_000 * 690),
        (250_000, 4, 4 * 690),
        (5, 0, 0),
    ],
)
def test_volume_tiers_price_each_part_by_the_parts_sent_before_it(
    month_volume: int, parts: int, cost: int
) -> None:
    assert DE_QUALITY.cost(month_volume, parts) == cost


@given(
    st.integers(min_value=0, max_value=300_000),
    st.integers(min_value=0, max_value=50_000),
    st.integers(min_value=0, max_value=50_000),
)
def test_splitting_a_send_never_changes_its_price(volume: int, first: int, second: int) -> None:
    together = DE_QUALITY.cost(volume, first + second)
    assert together == DE_QUALITY.cost(volume, first) + DE_QUALITY.cost(volume + first, second)
    assert 690 * (first + second) <= together <= 790 * (first + second)


@given(st.integers(min_value=0, max_value=300_000), st.integers(min_value=0, max_value=10**8))
def test_remaining_credit_buys_the_most_parts_it_can_pay_at_the_tiers_reached(
    volume: int, budget: int
) -> None:
    parts = DE_QUALITY.parts_for(budget, volume)
    assert DE_QUALITY.cost(volume, parts) <= budget < DE_QUALITY.cost(volume, parts + 1)


def test_remaining_credit_in_a_cheaper_tier_counts_at_that_tier() -> None:
    assert DE_QUALITY.parts_for(740 * 10, 20_000) == 10  # not 7,400 // 790 = 9
    assert DE_QUALITY.parts_for(790 * 2 + 740 * 3, 9_998) == 5  # across the boundary


def test_a_quote_prices_recipients_in_order_and_crosses_a_tier_boundary() -> None:
    quote = Quote(price_list(), QUALITY, month_volume=9_998)
    assert [quote.add("DE", MOBILE, 1), quote.add("DE", MOBILE, 2), quote.add("DE", MOBILE, 1)] == [
        790,
        790 + 740,
        740,
    ]
    totals = quote.totals()
    assert (totals.net, totals.parts) == (3_060, 4)
    assert quote.month_volume == 10_002


@pytest.mark.parametrize(
    ("recipients", "net", "vat", "gross"),
    [
        (1, 790, 150, 940),  # 150.1
        (3, 2_370, 450, 2_820),  # 450.3
        (5, 3_950, 751, 4_701),  # 750.5 rounds up; five times 150 would be 750
        (10, 7_900, 1_501, 9_401),
    ],
)
def test_vat_is_computed_once_on_the_total_net_and_rounded_half_up(
    recipients: int, net: int, vat: int, gross: int
) -> None:
    quote = Quote(price_list(), QUALITY, month_volume=0)
    for _ in range(recipients):
        quote.add("DE", MOBILE, 1)
    totals = quote.totals()
    assert (totals.net, totals.vat, totals.gross) == (net, vat, gross)


def test_german_fixed_line_numbers_have_their_own_price_in_a_tariff_that_includes_them() -> None:
    assert price_list().rate_for(QUALITY, "DE", FIXED).cost(0, 1) == 990


def test_fixed_line_sms_is_refused_in_a_tariff_without_it() -> None:
    with pytest.raises(FixedLineNotOfferedError, match="tariff economy"):
        price_list().rate_for(ECONOMY, "DE", FIXED)


def test_fixed_line_sms_is_refused_outside_germany_even_with_a_worldwide_rate() -> None:
    with pytest.raises(FixedLineNotOfferedError, match="only offered for German numbers"):
        price_list().rate_for(QUALITY, "AT", FIXED)


def test_mobile_numbers_without_their_own_rate_use_the_worldwide_rate() -> None:
    assert price_list().rate_for(QUALITY, "US", MOBILE).cost(0, 2) == 2_980
    with pytest.raises(NoPriceError, match="US in tariff high-quality"):
        price_list().rate_for(HIGH, "US", MOBILE)


def test_other_number_types_are_not_priced() -> None:
    with pytest.raises(NoPriceError, match="only offered to mobile"):
        price_list().rate_for(QUALITY, "DE", NumberType.OTHER)


def test_a_refused_price_counts_nothing_towards_the_month_volume() -> None:
    quote = Quote(price_list(), ECONOMY, month_volume=7)
    with pytest.raises(FixedLineNotOfferedError):
        quote.add("DE", FIXED, 1)
    assert (quote.month_volume, quote.totals().net) == (7, 0)


def test_the_price_book_picks_the_version_valid_at_the_time() -> None:
    old = price_list("old", JAN_2025, JUL_2025)
    new = PriceList("new", JUL_2025, None, [Rate(QUALITY, "DE", MOBILE, (VolumeTier(0, 750),))])
    book = PriceBook([new, old])
    assert book.at(NOW).version == "old"
    assert book.at(JUL_2025 - timedelta(microseconds=1)).version == "old"
    assert book.at(JUL_2025).version == "new"
    assert book.at(JUL_2025 + timedelta(days=3_000)).version == "new"
    with pytest.raises(NoPriceListError):
        book.at(JAN_2025 - timedelta(seconds=1))


def test_overlapping_versions_are_refused() -> None:
    with pytest.raises(InvalidPriceListError, match="overlap"):
        PriceBook([price_list("a", JAN_2025, None), price_list("b", JUL_2025, None)])


@pytest.mark.parametrize(
    ("tiers", "fragment"),
    [
        ((), "start at 0"),
        ((VolumeTier(10, 790),), "start at 0"),
        ((VolumeTier(0, 790), VolumeTier(0, 700)), "ascending"),
        ((VolumeTier(0, -1),), "negative"),
    ],
)
def test_malformed_tiers_are_refused(tiers: tuple[VolumeTier, ...], fragment: str) -> None:
    with pytest.raises(InvalidPriceListError, match=fragment):
        Rate(QUALITY, "DE", MOBILE, tiers)


def test_fixed_line_rates_outside_germany_are_refused_in_a_price_list() -> None:
    with pytest.raises(InvalidPriceListError, match="fixed-line"):
        PriceList("x", JAN_2025, None, [Rate(QUALITY, "AT", FIXED, (VolumeTier(0, 1),))])


def test_validity_without_a_timezone_is_refused() -> None:
    with pytest.raises(InvalidPriceListError, match="timezone"):
        PriceList("x", JAN_2025.replace(tzinfo=None), None, [])
