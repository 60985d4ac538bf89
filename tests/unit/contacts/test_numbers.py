"""The import's number normaliser must give exactly what ``parse_phone_number`` gives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contacts.numbers import NumberNormaliser, candidate_e164
from domain.phone.exceptions import InvalidPhoneNumberError
from domain.phone.number import PhoneNumber, parse_phone_number

NORMALISER = NumberNormaliser()
PREFIXES = ["151", "160", "171", "176", "179", "30", "89", "40", "221", "4931", "800", "900"]
SEPARATORS = ["", " ", "-", "/", ".", "  ", " - ", "\u00a0"]


def _full(raw: str) -> PhoneNumber | str:
    try:
        return parse_phone_number(raw.strip())
    except InvalidPhoneNumberError as exc:
        return exc.reason


def _normalised(raw: str) -> PhoneNumber | str:
    try:
        return NORMALISER.normalise(raw)
    except InvalidPhoneNumberError as exc:
        return exc.reason


@st.composite
def german_shapes(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    rest = draw(st.text(alphabet="0123456789", min_size=3, max_size=10))
    split = draw(st.integers(0, len(rest)))
    sep = draw(st.sampled_from(SEPARATORS))
    head = draw(
        st.sampled_from(
            [
                "0{p}",
                "+49{p}",
                "+49 {p}",
                "0049{p}",
                "(0{p})",
                "{p}",
                "+49 (0){p}",
                "0049 0{p}",
                "+43{p}",
                "0043 {p}",
            ]
        )
    )
    return head.format(p=prefix) + sep + rest[:split] + sep + rest[split:]


@given(german_shapes())
def test_german_numbers_in_any_shape_normalise_as_the_full_parser_reads_them(raw: str) -> None:
    assert _normalised(raw) == _full(raw)


@given(st.text(alphabet="0123456789+-/() .xX#*abc\t", max_size=24))
def test_any_text_normalises_or_fails_exactly_as_the_full_parser(raw: str) -> None:
    assert _normalised(raw) == _full(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "0171 2345678",
        "0171/2345678",
        "0171-234 56 78",
        "+49 171 2345678",
        "0049171 2345678",
        "(0171) 2345678",
        "1712345678",
        "+49 (0)171 2345678",
    ],
)
def test_usual_german_forms_of_one_mobile_number_are_one_e164_number(raw: str) -> None:
    assert NORMALISER.normalise(raw).e164 == "+491712345678"


def test_shapes_the_fast_path_cannot_read_are_left_to_the_full_parser() -> None:
    assert candidate_e164("0800 FLOWERS") is None
    assert candidate_e164("n/a") is None
    assert candidate_e164("4930123456") is None  # could be a country code: not guessed
    assert candidate_e164("0171 2345678") == "+491712345678"


def test_invalid_numbers_are_refused_with_the_full_parsers_reason() -> None:
    with pytest.raises(InvalidPhoneNumberError) as refused:
        NORMALISER.normalise("0171")
    assert refused.value.reason == _full("0171")
