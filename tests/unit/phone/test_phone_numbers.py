from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.phone.exceptions import InvalidNumberReason, InvalidPhoneNumberError
from domain.phone.number import NumberType, PhoneNumber, parse_phone_number
from domain.phone.parser import PhoneNumberParser


@pytest.mark.parametrize(
    "raw",
    [
        "01712345678",
        "0171/2345678",
        "0171-234 5678",
        "+491712345678",
        "00491712345678",
        "+49 (0)171 2345678",
        " 0171 234 56 78 ",
    ],
)
@pytest.mark.parametrize("parse", [parse_phone_number, PhoneNumberParser().parse])
def test_every_german_way_of_writing_a_mobile_number_gives_one_e164(
    raw: str, parse: Callable[[str], PhoneNumber]
) -> None:
    number = parse(raw)
    assert number == PhoneNumber("+491712345678", 49, "DE", NumberType.MOBILE)
    assert number.display == "00491712345678"


@pytest.mark.parametrize(
    ("raw", "e164", "region", "number_type"),
    [
        ("030 1234567", "+49301234567", "DE", NumberType.FIXED_LINE),
        ("089 12345678", "+498912345678", "DE", NumberType.FIXED_LINE),
        ("015112345678", "+4915112345678", "DE", NumberType.MOBILE),
        ("0171 23456789", "+4917123456789", "DE", NumberType.MOBILE),
        ("0800 1234567", "+498001234567", "DE", NumberType.OTHER),
        ("0900 1234567", "+499001234567", "DE", NumberType.OTHER),
        ("+43 664 1234567", "+436641234567", "AT", NumberType.MOBILE),
        ("+41 79 123 45 67", "+41791234567", "CH", NumberType.MOBILE),
        ("+44 7400 123456", "+447400123456", "GB", NumberType.MOBILE),
        ("+33 6 12 34 56 78", "+33612345678", "FR", NumberType.MOBILE),
        ("+1 201 555 0123", "+12015550123", "US", NumberType.MOBILE),  # fixed line or mobile
        ("+7 912 345 6789", "+79123456789", "RU", NumberType.MOBILE),
    ],
)
def test_numbers_get_their_country_and_number_type(
    raw: str, e164: str, region: str, number_type: NumberType
) -> None:
    number = PhoneNumberParser().parse(raw)
    assert (number.e164, number.region, number.number_type) == (e164, region, number_type)
    assert PhoneNumberParser().parse(e164) == number


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", InvalidNumberReason.NOT_A_NUMBER),
        ("0", InvalidNumberReason.NOT_A_NUMBER),
        ("+999 1234567", InvalidNumberReason.INVALID_COUNTRY_CODE),
        ("017112345678901234", InvalidNumberReason.TOO_LONG),
        ("+491712345678901234567", InvalidNumberReason.TOO_LONG),
        ("+49 30", InvalidNumberReason.LOCAL_ONLY),
        ("+49 171 1234567 ext. 12", InvalidNumberReason.HAS_EXTENSION),
        ("+49 199 12345678", InvalidNumberReason.NOT_ASSIGNED),
        ("01511234567", InvalidNumberReason.NOT_ASSIGNED),
        ("+49171234567", InvalidNumberReason.NOT_ASSIGNED),
        ("+882 3456 7890", InvalidNumberReason.NOT_ASSIGNED),
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(raw: str, reason: InvalidNumberReason) -> None:
    with pytest.raises(InvalidPhoneNumberError) as raised:
        PhoneNumberParser().parse(raw)
    assert raised.value.reason is reason
    digits = "".join(c for c in raw if c.isdigit())
    assert len(digits) < 3 or digits not in str(raised.value)  # never repeats the number
