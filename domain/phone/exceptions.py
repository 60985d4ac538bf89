"""Errors about recipients' phone numbers and the destinations they are in.

Messages name the reason and the country, never the number itself (personal data).
"""

from __future__ import annotations

import enum
from typing import ClassVar


class InvalidNumberReason(enum.StrEnum):
    NOT_A_NUMBER = "not_a_number"
    INVALID_COUNTRY_CODE = "invalid_country_code"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    INVALID_LENGTH = "invalid_length"
    LOCAL_ONLY = "local_only"
    HAS_EXTENSION = "has_extension"
    NOT_ASSIGNED = "not_assigned"


_EXPLANATIONS: dict[InvalidNumberReason, str] = {
    InvalidNumberReason.NOT_A_NUMBER: "is not a phone number",
    InvalidNumberReason.INVALID_COUNTRY_CODE: "has no valid country code",
    InvalidNumberReason.TOO_SHORT: "is too short",
    InvalidNumberReason.TOO_LONG: "is too long",
    InvalidNumberReason.INVALID_LENGTH: "has a length no number of its country has",
    InvalidNumberReason.LOCAL_ONLY: "is a local number: the area code is missing",
    InvalidNumberReason.HAS_EXTENSION: "has an extension, which SMS cannot reach",
    InvalidNumberReason.NOT_ASSIGNED: "is in no number range of its country",
}


class PhoneError(Exception):
    """Base class: a recipient cannot be sent to."""

    code: ClassVar[str] = "recipient"


class InvalidPhoneNumberError(PhoneError):
    """A recipient must have a valid, complete phone number (national numbers are read as
    numbers of the default region, Germany)."""

    code: ClassVar[str] = "invalid-number"

    def __init__(self, reason: InvalidNumberReason, region: str | None = None) -> None:
        where = f" ({region})" if region else ""
        super().__init__(f"the number {_EXPLANATIONS[reason]}{where}")
        self.reason: InvalidNumberReason = reason
        self.region: str | None = region


class DestinationBlockedError(PhoneError):
    """Messages are not sent to countries the destination rules block."""

    code: ClassVar[str] = "destination-blocked"

    def __init__(self, region: str) -> None:
        super().__init__(f"SMS to {region} are not offered")
        self.region: str = region


class SenderNotRegisteredError(PhoneError):
    """Countries listed as needing a registered sender ID only receive messages from a sender
    ID the account has registered for that country."""

    code: ClassVar[str] = "sender-not-registered"

    def __init__(self, region: str, sender: str | None) -> None:
        shown = f"sender ID {sender!r}" if sender else "a message without a sender ID"
        super().__init__(f"{region} only accepts registered sender IDs; {shown} is not registered")
        self.region: str = region
        self.sender: str | None = sender
