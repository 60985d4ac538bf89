"""What the send path records about single messages, inside batch events.

Throughput needs batches (one event for up to 500 messages), and every message's history must
still replay on its own: each record names its message id, so a message's history is the
sequence of records naming it, in notification order (see ``projections/messaging_history``).
Numbers and texts are ``PersonalData`` under the recipient's own data key, so erasing one person
redacts their messages and nothing else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.personal import PersonalData


class Lane(enum.StrEnum):
    TRANSACTIONAL = "tx"
    BULK = "bulk"


@dataclass(frozen=True)
class RecordedMessage:
    index: int
    message_id: UUID
    number_hash: str
    number: PersonalData
    text: PersonalData
    region: str
    encoding: str
    parts: int
    price: int
    delivery_reports: bool


class SubmitOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    UNCERTAIN = "uncertain"
    """Sent, but no answer: it may have reached the carrier. Resending is recorded as such."""
    CANCELLED = "cancelled"
    """Not sent: the send was cancelled before this message's turn."""
    EXPIRED = "expired"
    """Not sent: its validity period passed before its turn (a carrier away for days, a queue
    that never drained); its reservation is released, or has already closed."""


@dataclass(frozen=True)
class SubmitResult:
    message_id: UUID
    send_id: UUID
    account_id: UUID
    index: int
    parts: int
    price: int
    outcome: SubmitOutcome
    carrier_ids: tuple[str, ...]
    command_status: int
    attempt: int
    route: str
    at: datetime


@dataclass(frozen=True)
class DeliveryReport:
    message_id: UUID
    send_id: UUID
    account_id: UUID
    part: int
    carrier_id: str
    state: str
    status_text: str
    error_code: str | None
    final: bool
    done_at: datetime | None
    received_at: datetime
    source: str
    """``deliver_sm`` (a receipt), ``query_sm`` (an operator's question), or ``validity``
    (no final report within the validity period: unconfirmed)."""


@dataclass(frozen=True, slots=True)
class Handset:
    """A handset a carrier names on the inbound side (``services.handsets``)."""

    number: str
    number_hash: str
    """The platform-wide lookup hash of ``number``."""
    key_id: UUID
    """That person's own data key."""


@dataclass(frozen=True, slots=True)
class ReplyPart:
    """A part of a concatenated reply, waiting for the rest (``services.reply_parts``)."""

    identity: str
    """What names this deliver_sm for good: a digest of its bytes, sender and arrival."""
    group: str
    """What names the message it is part of: handset, address, reference and total."""
    sequence: int
    total: int
    route: str
    handset: Handset
    recipient: str
    data_coding: int
    body: bytes
    received_at: datetime


@dataclass(frozen=True)
class Reply:
    reply_id: UUID
    route: str
    sender_hash: str
    sender: PersonalData
    recipient: str
    text: PersonalData
    received_at: datetime
    incomplete: bool = False
    """A concatenated reply recorded without all its parts (they did not come in time)."""
    parts: int = 1
    """How many deliver_sm it was joined from."""


@dataclass(frozen=True)
class UnmatchedReceipt:
    """A delivery report whose carrier id no recorded submit result names, kept for support
    once waiting for its submit result was given up (see the ingest): the carrier was told it
    arrived, so it is evidence, not noise. It names a handset (the receipt's source address)
    under the platform-wide lookup hash, and the number itself sealed under that person's key."""

    receipt_id: UUID
    carrier: str
    """The carrier account the receipt came over (receipts match per account)."""
    carrier_id: str
    state: str
    status_text: str
    error_code: str | None
    final: bool
    done_at: datetime | None
    received_at: datetime
    number_hash: str
    number: PersonalData
    deliveries: int
    """How often it was offered to the ingest before it was given up."""
