"""Dedicated inbound numbers as the API shows them."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

Number = Annotated[str, msgspec.Meta(min_length=1, max_length=24)]


class InboundNumberCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Number
    """International, ``+49...`` or ``0049...``."""


class InboundNumberAssign(msgspec.Struct, forbid_unknown_fields=True):
    account_id: UUID


class InboundNumberRead(msgspec.Struct):
    number: str
    """Digits without ``+``: use it as the numeric ``sender`` of a send."""
    account_id: UUID | None
    """The account it is assigned to (``None``: free in the pool)."""


class InboundNumberPage(msgspec.Struct):
    items: list[InboundNumberRead]
