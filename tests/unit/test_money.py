from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import format_eur, format_eur_de, parse_eur, vat_on


@pytest.mark.parametrize(
    ("net", "vat"),
    [(10_000, 1_900), (790, 150), (5, 1), (2, 0), (0, 0), (-790, -150), (1_000_000, 190_000)],
)
def test_vat_is_19_percent_rounded_half_up_to_the_minor_unit(net: int, vat: int) -> None:
    assert vat_on(net) == vat


def test_amounts_format_with_four_decimals() -> None:
    assert format_eur(790) == "0.0790"
    assert format_eur(1_234_567) == "123.4567"
    assert format_eur(-5) == "-0.0005"


def test_more_than_four_decimals_is_refused() -> None:
    with pytest.raises(ValueError, match="four decimals"):
        parse_eur("0.07901")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_format_and_parse_round_trip(amount: int) -> None:
    assert parse_eur(format_eur(amount)) == amount


def test_csv_amounts_have_the_decimal_comma_german_excel_reads() -> None:
    assert format_eur_de(790) == "0,0790"
    assert format_eur_de(-1_234_567) == "-123,4567"
