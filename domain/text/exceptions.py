"""Errors of the message text engine: encoding, length, templates and sender IDs.

Each class's docstring states the rule it guards. Messages never quote a recipient's field values
or phone number (personal data); they name positions, counts and field names instead.
"""

from __future__ import annotations

from typing import ClassVar


class TextError(Exception):
    """Base class: a message text, template or sender ID breaks a rule of the text engine."""

    code: ClassVar[str] = "text"


class EmptyTextError(TextError):
    """A message must contain at least one character."""

    code: ClassVar[str] = "empty-text"

    def __init__(self) -> None:
        super().__init__("the message text is empty")


class TextTooLongError(TextError):
    """A message may have at most ``limit`` characters (Unicode code points), counted after
    rendering and normalising."""

    code: ClassVar[str] = "text-too-long"

    def __init__(self, characters: int, limit: int) -> None:
        super().__init__(f"the text has {characters:,} characters; at most {limit:,} are allowed")
        self.characters: int = characters
        self.limit: int = limit


class NotGsmError(TextError):
    """Only characters of the GSM 03.38 default alphabet and its extension table can be encoded
    as GSM-7."""

    code: ClassVar[str] = "not-gsm"

    def __init__(self, position: int, character: str) -> None:
        super().__init__(f"character {character!r} at position {position} is not in GSM 03.38")
        self.position: int = position
        self.character: str = character


class InvalidEncodingError(TextError):
    """Encoded SMS bytes must be valid for their data coding (GSM-7 septets below 0x80, escape
    followed by an extension character; UCS-2 of even length without lone surrogates) and
    concatenated parts must carry one consistent header."""

    code: ClassVar[str] = "invalid-encoding"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason: str = reason


class TemplateSyntaxError(TextError):
    """Placeholders are ``{field}`` or ``{field|default}`` with a field name of letters, digits,
    ``_`` or ``-``; literal braces are written ``{{`` and ``}}``."""

    code: ClassVar[str] = "template-syntax"

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"template error at position {position}: {reason}")
        self.position: int = position
        self.reason: str = reason


class UnknownFieldError(TextError):
    """Every placeholder without a default needs a value among the recipient's fields."""

    code: ClassVar[str] = "unknown-field"

    def __init__(self, field: str) -> None:
        super().__init__(f"the recipient has no field {field!r} and the placeholder has no default")
        self.field: str = field


class InvalidSenderError(TextError):
    """A sender ID is 1-11 letters and digits A-Z, a-z, 0-9 (alphanumeric) or up to 16 digits
    with an optional leading ``+`` (numeric)."""

    code: ClassVar[str] = "invalid-sender"

    def __init__(
        self,
        reason: str,
        *,
        character: str | None = None,
        position: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason: str = reason
        self.character: str | None = character
        self.position: int | None = position
        self.length: int | None = length
