"""Sender IDs: what the recipient's phone shows as the message's origin.

Alphanumeric: 1-11 characters A-Z, a-z, 0-9 with at least one letter (no umlauts, spaces or
special characters: networks drop or garble them). Numeric: 1-16 digits, optionally written
with a leading ``+``, which is dropped (the value is the international number's digits, as SMPP
``source_addr`` with TON international carries it). A sender of digits only is numeric, so
``"12345"`` is a numeric sender. Errors name the offending character and its
position (0-based, like every position in the text engine), or the length.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from domain.text.exceptions import InvalidSenderError

MAX_ALPHANUMERIC = 11
MAX_NUMERIC = 16

_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")


class SenderKind(enum.StrEnum):
    ALPHANUMERIC = "alphanumeric"
    NUMERIC = "numeric"


@dataclass(frozen=True, slots=True)
class SenderId:
    value: str
    kind: SenderKind

    @classmethod
    def parse(cls, raw: str) -> SenderId:
        """Validate a sender as typed by a customer; raises ``InvalidSenderError``."""
        if not raw:
            raise InvalidSenderError("the sender ID is empty", length=0)
        digits = raw[1:] if raw.startswith("+") else raw
        if digits.isascii() and digits.isdigit():
            if len(digits) > MAX_NUMERIC:
                raise InvalidSenderError(
                    f"a numeric sender ID has at most {MAX_NUMERIC} digits, not {len(digits)}",
                    length=len(digits),
                )
            return cls(digits, SenderKind.NUMERIC)
        bad = _NOT_ALPHANUMERIC.search(raw)
        if bad is not None:
            character = bad.group()
            raise InvalidSenderError(
                f"character {character!r} at position {bad.start()} is not allowed in a "
                "sender ID (only A-Z, a-z and 0-9)",
                character=character,
                position=bad.start(),
            )
        if len(raw) > MAX_ALPHANUMERIC:
            raise InvalidSenderError(
                f"an alphanumeric sender ID has at most {MAX_ALPHANUMERIC} characters, "
                f"not {len(raw)}",
                length=len(raw),
            )
        return cls(raw, SenderKind.ALPHANUMERIC)
