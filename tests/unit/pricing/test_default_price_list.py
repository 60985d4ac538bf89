"""Golden figures of the shipped price list and destination rules (``adapters/data``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.destinations import load_destination_rules, parse_destination_rules
from adapters.pricelist import default_price_per_sms, load_price_book, parse_price_book, parse_toml
from domain.phone.number import NumberType
from domain.pricing.exceptions import FixedLineNotOfferedError, InvalidPriceListError, NoPriceError
from domain.pricing.quote import Quote
from domain.tariff import Tariff

BOOK = load_price_book()
MARCH_2025 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tariff", "region", "number_type", "month_volume", "parts", "net"),
    [
        (Tariff.ECONOMY, "DE", NumberType.MOBILE, 0, 1, 590),
        (Tariff.QUALITY, "DE", NumberType.MOBILE, 0, 1, 790),
        (Tariff.HIGH_QUALITY, "DE", NumberType.MOBILE, 0, 1, 890),
        (Tariff.QUALITY, "DE", NumberType.MOBILE, 9_999, 2, 790 + 740),
        (Tariff.QUALITY, "DE", NumberType.MOBILE, 99_999, 2, 740 + 690),
        (Tariff.ECONOMY, "DE", NumberType.MOBILE, 100_000, 3, 3 * 490),
        (Tariff.QUALITY, "DE", NumberType.FIXED_LINE, 0, 2, 1_980),
        (Tariff.HIGH_QUALITY, "DE", NumberType.FIXED_LINE, 50_000, 1, 1_190),
        (Tariff.QUALITY, "AT", NumberType.MOBILE, 0, 1, 890),
        (Tariff.ECONOMY, "CH", NumberType.MOBILE, 10_000, 1, 650),
        (Tariff.QUALITY, "FR", NumberType.MOBILE, 0, 1, 990),
        (Tariff.QUALITY, "US", NumberType.MOBILE, 0, 3, 4_470),
        (Tariff.HIGH_QUALITY, "BR", NumberType.MOBILE, 0, 1, 1_790),
    ],
)
def test_the_default_price_list_quotes(
    tariff: Tariff, region: str, number_type: NumberType, month_volume: int, parts: int, net: int
) -> None:
    quote = Quote(BOOK.at(MARCH_2025), tariff, month_volume)
    assert quote.add(region, number_type, parts) == net


def test_the_2024_prices_apply_until_new_year_berlin_time() -> None:
    before = datetime.fromisoformat("2024-12-31T23:59:59+01:00")
    after = datetime.fromisoformat("2025-01-01T00:00:00+01:00")
    assert BOOK.at(before).rate_for(Tariff.QUALITY, "DE", NumberType.MOBILE).cost(0, 1) == 850
    assert BOOK.at(after).rate_for(Tariff.QUALITY, "DE", NumberType.MOBILE).cost(0, 1) == 790


def test_the_default_list_offers_no_fixed_line_sms_in_economy_and_no_worldwide_economy() -> None:
    prices = BOOK.at(MARCH_2025)
    with pytest.raises(FixedLineNotOfferedError):
        prices.rate_for(Tariff.ECONOMY, "DE", NumberType.FIXED_LINE)
    with pytest.raises(NoPriceError):
        prices.rate_for(Tariff.ECONOMY, "US", NumberType.MOBILE)


def test_the_default_destination_rules() -> None:
    rules = load_destination_rules()
    assert {"KP", "IR", "SY", "CU"} <= rules.blocked
    assert "IN" in rules.sender_registration_required
    assert "DE" not in rules.blocked | rules.sender_registration_required
    assert rules.has_delivery_reports("DE")


VERSION = """
[[versions]]
version = "v"
valid_from = 2025-01-01T00:00:00+01:00
[[versions.rates]]
tariff = "quality"
number_type = "{number_type}"
countries = ["{country}"]
tiers = [{{ from = 0, price = {price} }}]
"""


def _document(
    number_type: str = "mobile", country: str = "DE", price: str = '"0.079"'
) -> dict[str, object]:
    return parse_toml(VERSION.format(number_type=number_type, country=country, price=price), "t")


def test_a_price_file_gives_integer_minor_units() -> None:
    prices = parse_price_book(_document(price='"0.079"')).at(MARCH_2025)
    assert prices.rate_for(Tariff.QUALITY, "DE", NumberType.MOBILE).cost(0, 1) == 790


@pytest.mark.parametrize(
    ("number_type", "country", "price", "fragment"),
    [
        ("mobile", "DE", '"0.07901"', "four decimals"),
        ("mobile", "DE", "0.079", "EUR strings"),
        ("mobile", "DE", '"cheap"', "cheap"),
        ("fixed_line", "AT", '"0.099"', "fixed-line"),
        ("pager", "DE", '"0.079"', "pager"),
    ],
)
def test_malformed_price_files_are_refused_with_the_place(
    number_type: str, country: str, price: str, fragment: str
) -> None:
    with pytest.raises(InvalidPriceListError, match=fragment) as raised:
        parse_price_book(_document(number_type, country, price))
    assert "version v" in str(raised.value)


def test_a_validity_without_offset_is_refused() -> None:
    text = VERSION.replace("+01:00", "").format(number_type="mobile", country="DE", price='"1"')
    with pytest.raises(InvalidPriceListError, match="UTC offset"):
        parse_price_book(parse_toml(text, "t"))


def test_a_price_file_can_replace_the_default(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text(VERSION.format(number_type="mobile", country="DE", price='"0.0500"'))
    book = load_price_book(path)
    assert book.at(MARCH_2025).rate_for(Tariff.QUALITY, "DE", NumberType.MOBILE).cost(0, 2) == 1_000


def test_destination_lists_must_be_lists_of_country_codes() -> None:
    with pytest.raises(InvalidPriceListError, match="blocked"):
        parse_destination_rules({"blocked": "KP"})


def test_the_price_per_sms_for_remaining_credit_is_the_german_mobile_list_price() -> None:
    price_per_sms = default_price_per_sms()
    assert price_per_sms(Tariff.QUALITY, MARCH_2025) == 790
    assert price_per_sms(Tariff.ECONOMY, MARCH_2025) == 590
    assert price_per_sms(Tariff.HIGH_QUALITY, MARCH_2025) == 890
    assert price_per_sms(Tariff.QUALITY, datetime(2024, 8, 1, tzinfo=UTC)) == 850
