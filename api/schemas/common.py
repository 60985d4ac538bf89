"""The one validation layer at the edge: constrained types every request shape is built from.

What a store cannot hold never gets past the decoder: PostgreSQL text refuses NUL, UTF-8
cannot carry a lone surrogate, and every amount column is a bigint. So every text a request
carries refuses control characters (a message text keeps line breaks and tabs) and lone
surrogates and has a maximum length, and every amount is positive (or, for a correction,
non-zero) and at most ``domain.money.MAX_AMOUNT``. The constraints are msgspec ``Meta``, so the
OpenAPI document states them (``pattern``, ``maxLength``, ``maximum``) and a violation is a 422
``validation`` problem naming the field.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from domain.money import MAX_AMOUNT
from domain.text.segments import MAX_CHARACTERS

_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f"
_SURROGATES = r"\ud800-\udfff"
LINE_PATTERN = rf"^[^{_CONTROLS}\u0009\u000a\u000d]*$"
"""A single line: no control character at all (the pattern the OpenAPI document states)."""
MULTILINE_PATTERN = rf"^[^{_CONTROLS}]*$"
"""A message text: line feed, carriage return and tab allowed, no other control character."""
LINE_CHECK = rf"^[^{_CONTROLS}\u0009\u000a\u000d{_SURROGATES}]*$"
MULTILINE_CHECK = rf"^[^{_CONTROLS}{_SURROGATES}]*$"
"""What the decoder checks: the patterns above, and no lone surrogate either. The document
leaves the surrogates out, as its regex dialect (ECMA 262, and the Rust engine of schema
tools) cannot name them, and no request can carry one: the JSON decoder refuses a lone
surrogate escape and query strings are decoded as UTF-8 with replacement. The check stays as a
guard for values that reach a struct another way (``msgspec.convert``)."""


def text_meta(
    max_length: int, min_length: int = 0, *, multiline: bool = False, **meta: Any
) -> msgspec.Meta:
    """Constraints of a text: checked with surrogates refused, documented without them."""
    documented = MULTILINE_PATTERN if multiline else LINE_PATTERN
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=MULTILINE_CHECK if multiline else LINE_CHECK,
        extra_json_schema={"extra": {"pattern": documented}},
        **meta,
    )


MAX_COUNT = 2**31 - 1
"""The largest count (SMS parts, limits, thresholds) a request may give: fits an integer column."""


def line(max_length: int, min_length: int = 0, **meta: Any) -> msgspec.Meta:
    """The constraints of a one-line text of at most ``max_length`` characters."""
    return text_meta(max_length, min_length, **meta)


Amount = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=MAX_AMOUNT,
        description=f"amount in 1/10,000 EUR (790 = 0.0790 EUR), 1 to {MAX_AMOUNT}",
    ),
]
"""A positive amount a request moves."""
SignedAmount = Annotated[
    int,
    msgspec.Meta(
        ge=-MAX_AMOUNT,
        le=MAX_AMOUNT,
        description=f"credit (> 0) or debit (< 0) in 1/10,000 EUR, at most {MAX_AMOUNT} either way",
    ),
]
NonNegativeAmount = Annotated[
    int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="amount in 1/10,000 EUR, 0 allowed")
]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
PositiveCount = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)]

MessageText = Annotated[
    str,
    text_meta(
        MAX_CHARACTERS,
        1,
        multiline=True,
        description=f"the message text or template, at most {MAX_CHARACTERS} characters",
    ),
]
Reason = Annotated[str, line(500, 3)]
Reference = Annotated[str, line(100, 1)]
OptionalReference = Annotated[str, line(100)]
Label = Annotated[str, line(100)]
Name = Annotated[str, line(200)]
ListName = Annotated[str, line(100, 1)]
FieldName = Annotated[str, line(64, 1)]
FieldValue = Annotated[str, line(1_000)]
Fields = Annotated[
    dict[FieldName, FieldValue],
    msgspec.Meta(max_length=50, description="personalisation fields by name (at most 50)"),
]
Number = Annotated[str, line(64, 1, examples=["0171 2345678"])]
Sender = Annotated[str, line(20, 1)]
SenderId = Annotated[str, line(20, 1)]
Short = Annotated[str, line(200)]
"""Any other short text (search terms, cursors, labels)."""
