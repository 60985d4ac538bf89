"""Phone numbers as a value object: E.164, country, number type.

Parsing uses ``phonenumbers`` with Germany as the default region, so ``01712345678``,
``0171/2345678``, ``0171-234 5678``, ``+491712345678`` and ``00491712345678`` are all
``+491712345678`` (shown to customers as ``00491712345678``). Number types are reduced to what
pricing needs: mobile (``FIXED_LINE_OR_MOBILE`` counts as mobile, since such countries, like
the USA, do not tell them apart), fixed line, and other (toll-free, premium, VoIP, pager...).
Invalid numbers are refused with a ``InvalidNumberReason``.

Full parsing costs about 30 µs; ``domain.phone.parser.PhoneNumberParser`` adds an exact fast
path for numbers that are already E.164.
"""

from __future__ import annotations

import enum
from typing import NamedTuple

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

from domain.phone.exceptions import InvalidNumberReason, InvalidPhoneNumberError

DEFAULT_REGION = "DE"


class NumberType(enum.StrEnum):
    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    OTHER = "other"


NUMBER_TYPES: dict[int, NumberType] = {
    PhoneNumberType.MOBILE: NumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE: NumberType.MOBILE,
    PhoneNumberType.FIXED_LINE: NumberType.FIXED_LINE,
}
"""phonenumbers' type -> ours; every type not listed (and valid) is ``OTHER``."""


class PhoneNumber(NamedTuple):
    """A valid number (a named tuple: immutable, and cheap to create 100,000 times)."""

    e164: str
    """``+491712345678``"""
    country_code: int
    region: str
    """ISO 3166-1 alpha-2 region of the number (``DE``), as phonenumbers assigns it."""
    number_type: NumberType

    @property
    def display(self) -> str:
        """The international form German customers read: ``00491712345678``."""
        return "00" + self.e164[1:]


_PARSE_REASONS: dict[int, InvalidNumberReason] = {
    NumberParseException.INVALID_COUNTRY_CODE: InvalidNumberReason.INVALID_COUNTRY_CODE,
    NumberParseException.NOT_A_NUMBER: InvalidNumberReason.NOT_A_NUMBER,
    NumberParseException.TOO_SHORT_AFTER_IDD: InvalidNumberReason.TOO_SHORT,
    NumberParseException.TOO_SHORT_NSN: InvalidNumberReason.TOO_SHORT,
    NumberParseException.TOO_LONG: InvalidNumberReason.TOO_LONG,
}

_POSSIBILITY_REASONS: dict[int, InvalidNumberReason] = {
    ValidationResult.INVALID_COUNTRY_CODE: InvalidNumberReason.INVALID_COUNTRY_CODE,
    ValidationResult.TOO_SHORT: InvalidNumberReason.TOO_SHORT,
    ValidationResult.TOO_LONG: InvalidNumberReason.TOO_LONG,
    ValidationResult.INVALID_LENGTH: InvalidNumberReason.INVALID_LENGTH,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: InvalidNumberReason.LOCAL_ONLY,
}


def parse_phone_number(raw: str, default_region: str = DEFAULT_REGION) -> PhoneNumber:
    """Parse, validate and type a number as a customer typed it; raises
    ``InvalidPhoneNumberError`` with the reason."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except NumberParseException as exc:
        reason = _PARSE_REASONS.get(exc.error_type, InvalidNumberReason.NOT_A_NUMBER)
        raise InvalidPhoneNumberError(reason) from None
    region = phonenumbers.region_code_for_number(number)
    if number.extension:
        raise InvalidPhoneNumberError(InvalidNumberReason.HAS_EXTENSION, region)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible != ValidationResult.IS_POSSIBLE:
        raise InvalidPhoneNumberError(_POSSIBILITY_REASONS[possible], region)
    if region is None or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumberError(InvalidNumberReason.NOT_ASSIGNED, region)
    kind = NUMBER_TYPES.get(phonenumbers.number_type(number), NumberType.OTHER)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164, number.country_code or 0, region, kind)
