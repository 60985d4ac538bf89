"""Replies (MO) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class ReplyRead(msgspec.Struct):
    reply_id: UUID
    received_at: datetime
    number: str
    """The handset that replied (``0049...``; redacted once that person's data was erased)."""
    text: str
    """As the handset sent it (redacted likewise)."""
    to: str
    """The sender ID it was sent to: the one of the message it answers."""
    message_id: UUID | None
    """The outgoing message it answers (``rule`` says how it was found)."""
    send_id: UUID | None
    rule: str
    """``number_and_sender``: the most recent message to the handset from that sender within
    the correlation window; ``none`` is never shown to an account."""
    stop: bool
    """A STOP reply: the handset was put on the account's opt-out list."""
    read: bool
    incomplete: bool = False
    """A long reply recorded without all its parts (they did not arrive within the timeout):
    ``text`` shows each missing part as ``[…]``."""


class ReplyPage(msgspec.Struct):
    items: list[ReplyRead]
    next_cursor: str | None
