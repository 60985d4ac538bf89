"""The E.164 fast path must give exactly what phonenumbers' full parser gives."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.phone.exceptions import InvalidPhoneNumberError
from domain.phone.number import PhoneNumber, parse_phone_number
from domain.phone.parser import PhoneNumberParser

PARSER = PhoneNumberParser()


def _full(raw: str) -> PhoneNumber | str:
    try:
        return parse_phone_number(raw)
    except InvalidPhoneNumberError as exc:
        return exc.reason


def _fast(raw: str) -> PhoneNumber | str:
    try:
        return PARSER.parse(raw)
    except InvalidPhoneNumberError as exc:
        return exc.reason


def _example_numbers() -> list[str]:
    numbers = set()
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(11):  # every PhoneNumberType with examples
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.add(
                    phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                )
    return sorted(numbers)


EXAMPLES = _example_numbers()


def _variants(e164: str) -> list[str]:
    """The number, and numbers one digit away from it (longer, shorter, changed)."""
    last = e164[-1]
    changed = e164[:-1] + str((int(last) + 1) % 10)
    second = e164[:4] + str((int(e164[4]) + 5) % 10) + e164[5:] if len(e164) > 5 else e164
    return [e164, e164 + "5", e164[:-1], changed, second]


def test_there_are_example_numbers_from_nearly_every_region() -> None:
    assert len(EXAMPLES) > 900


@pytest.mark.parametrize("start", range(0, len(EXAMPLES), 200))
def test_the_fast_path_agrees_with_phonenumbers_on_every_example_number_and_its_neighbours(
    start: int,
) -> None:
    for e164 in EXAMPLES[start : start + 200]:
        for variant in _variants(e164):
            assert _fast(variant) == _full(variant), variant


@given(
    st.sampled_from(
        [
            "+49",
            "+491",
            "+4915",
            "+4917",
            "+4930",
            "+43",
            "+41",
            "+1",
            "+44",
            "+39",
            "+33",
            "+7",
            "+90",
            "+86",
            "+800",
            "+3",
        ]
    ),
    st.text(alphabet="0123456789", min_size=1, max_size=13),
)
def test_the_fast_path_agrees_with_phonenumbers_on_arbitrary_digits(head: str, tail: str) -> None:
    raw = head + tail
    assert _fast(raw) == _full(raw)


def test_the_fast_path_answers_for_most_example_numbers_instead_of_falling_back() -> None:
    # Agreement alone would also hold if every number fell back to the full parser.
    answered = sum(PARSER._parse_e164(e164) is not None for e164 in EXAMPLES)
    assert answered > 0.6 * len(EXAMPLES)
    assert PARSER._parse_e164("+491712345678") is not None
