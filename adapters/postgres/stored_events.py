"""The Messaging events as stored: the one definition other processes read them by.

The mapper (``adapters.postgres.eventstore``) writes an event's ``__dict__`` as msgspec JSON and
types it back from the domain class's annotations. Processes that must not pay for a full
decode (the dashboards' projection, the outbox relay, the API's history and receipt views)
read the stored JSON with these structs instead. What they hold is exactly what the mapper
writes, no more, no less:

- every recorded attribute of the event, named and typed as in the domain class (enums as the
  domain's enums, tuples as lists), plus ``timestamp`` and, for a created event,
  ``originator_topic``; never ``originator_id`` / ``originator_version`` (they are columns);
- ``class_version`` where the class's is above 1 (the mapper omits it at 1), defaulting to 1 for
  events stored before; a field an upcaster adds has the default that upcaster gives, so an
  event of an earlier version decodes as the mapper would upcast it;
- personal data still sealed (``Sealed``): nothing here decrypts unless asked to
  (``Sealed.opened``), so reading a 500-message chunk costs no key and no AES.

``tests/unit/test_stored_events.py`` encodes every Messaging event class through the real
mapper and requires each struct to give back exactly what was stored: a field added to, renamed
in or removed from a domain event fails it until its struct follows. Unknown fields are still
ignored at runtime (msgspec's default), so a process of the previous release keeps reading
events a newer one writes during an upgrade.

Dispatch is by the stored topic (CONVENTIONS 12): each struct names its domain class
(``event_class``), and ``DECODERS`` maps that class's topic to the struct's decoder.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any, ClassVar, Protocol
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.messaging.batches import (
    CarrierReport,
    DeliveryBatch,
    MessageChunk,
    ReplyBatch,
    UnmatchedReceipts,
)
from domain.messaging.records import Lane, SubmitOutcome
from domain.messaging.send import Send
from domain.personal import PersonalData
from domain.tariff import Tariff


class Opener(Protocol):
    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        """The plaintext, or ``None`` when the key has been shredded."""
        ...


def open_sealed(keyring: Opener | None, key_id: str, ciphertext: str | None) -> PersonalData:
    """Personal data as stored, opened: redacted (value None) when it was stored redacted, when
    there is no keyring, or when its key has been shredded."""
    key = UUID(key_id)
    if ciphertext is None or keyring is None:
        return PersonalData(key, None)
    opened = keyring.open(key, base64.b64decode(ciphertext))
    return PersonalData(key, None if opened is None else opened.decode())


class Sealed(msgspec.Struct, frozen=True):
    """A ``PersonalData`` value as stored (and as NATS payloads carry it): the data key's id in
    hex and the ciphertext in base64 (``None``: stored redacted)."""

    k: str
    c: str | None

    def opened(self, keyring: Opener | None) -> PersonalData:
        return open_sealed(keyring, self.k, self.c)


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_class: ClassVar[type[Aggregate.Event]]
    """The domain event class whose stored state this struct reads."""
    timestamp: datetime


class StoredCreated(StoredEvent, frozen=True, kw_only=True):
    originator_topic: str


# -- Send ----------------------------------------------------------------------------------


class StoredSkipped(msgspec.Struct, frozen=True):
    reason: str
    count: int


class SendAccepted(StoredCreated, frozen=True, kw_only=True):
    event_class = Send.Accepted
    account_id: UUID
    lane: Lane
    sender: str
    tariff: Tariff
    template: Sealed
    list_id: UUID | None
    total: int
    parts: int
    expected_cost: int
    skipped: list[StoredSkipped]
    schedule_at: datetime | None
    review_required: bool
    fingerprint: str
    idempotency_key: str | None
    name: str
    expires_at: datetime | None = None
    class_version: int = 1


class SendReviewReleased(StoredEvent, frozen=True, kw_only=True):
    event_class = Send.ReviewReleased
    actor: str


class SendChunkRecorded(StoredEvent, frozen=True, kw_only=True):
    event_class = Send.ChunkRecorded
    chunk: int
    count: int


class SendCancelled(StoredEvent, frozen=True, kw_only=True):
    event_class = Send.Cancelled
    actor: str
    reason: str
    recorded: int


class StoredScheduledMessage(msgspec.Struct, frozen=True):
    message_id: UUID
    index: int
    number_hash: str
    region: str
    encoding: str
    parts: int
    price: int


class SendMessagesScheduled(StoredEvent, frozen=True, kw_only=True):
    event_class = Send.MessagesScheduled
    messages: list[StoredScheduledMessage]


class SendCompleted(StoredEvent, frozen=True, kw_only=True):
    event_class = Send.Completed
    captured: int
    settled: int


SendChanged = SendReviewReleased | SendChunkRecorded | SendCancelled | SendCompleted
"""The events that move an accepted send from one state to the next."""


# -- the send path's batches ---------------------------------------------------------------


class StoredMessage(msgspec.Struct, frozen=True):
    index: int
    message_id: UUID
    number_hash: str
    number: Sealed
    text: Sealed
    region: str
    encoding: str
    parts: int
    price: int
    delivery_reports: bool


class ChunkRecorded(StoredCreated, frozen=True, kw_only=True):
    event_class = MessageChunk.Recorded
    send_id: UUID
    chunk: int
    account_id: UUID
    lane: Lane
    sender: str
    tariff: Tariff
    messages: list[StoredMessage]
    expires_at: datetime | None = None
    class_version: int = 1


class TransactionalChunkRecorded(ChunkRecorded, frozen=True, kw_only=True):
    """The same record on the transactional lane's own topic (see ``MessageChunk``)."""

    event_class = MessageChunk.TransactionalRecorded


class StoredResult(msgspec.Struct, frozen=True):
    message_id: UUID
    send_id: UUID
    account_id: UUID
    index: int
    parts: int
    price: int
    outcome: SubmitOutcome
    carrier_ids: list[str]
    command_status: int
    attempt: int
    route: str
    at: datetime


class CarrierReportRecorded(StoredCreated, frozen=True, kw_only=True):
    event_class = CarrierReport.Recorded
    route: str
    results: list[StoredResult]


class StoredReport(msgspec.Struct, frozen=True):
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


class DeliveryBatchRecorded(StoredCreated, frozen=True, kw_only=True):
    event_class = DeliveryBatch.Recorded
    route: str
    reports: list[StoredReport]


class StoredReply(msgspec.Struct, frozen=True):
    reply_id: UUID
    route: str
    sender_hash: str
    sender: Sealed
    recipient: str
    text: Sealed
    received_at: datetime
    incomplete: bool = False
    parts: int = 1


class ReplyBatchRecorded(StoredCreated, frozen=True, kw_only=True):
    event_class = ReplyBatch.Recorded
    route: str
    replies: list[StoredReply]


class StoredUnmatched(msgspec.Struct, frozen=True):
    receipt_id: UUID
    carrier: str
    carrier_id: str
    state: str
    status_text: str
    error_code: str | None
    final: bool
    done_at: datetime | None
    received_at: datetime
    number_hash: str
    number: Sealed
    deliveries: int


class UnmatchedReceiptsRecorded(StoredCreated, frozen=True, kw_only=True):
    event_class = UnmatchedReceipts.Recorded
    receipts: list[StoredUnmatched]


STRUCTS: tuple[type[StoredEvent], ...] = (
    SendAccepted,
    SendReviewReleased,
    SendChunkRecorded,
    SendCancelled,
    SendCompleted,
    SendMessagesScheduled,
    ChunkRecorded,
    TransactionalChunkRecorded,
    CarrierReportRecorded,
    DeliveryBatchRecorded,
    ReplyBatchRecorded,
    UnmatchedReceiptsRecorded,
)
DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    get_topic(struct.event_class): msgspec.json.Decoder(struct) for struct in STRUCTS
}
"""Stored topic -> the decoder of its struct."""


def decode(topic: str, state: bytes) -> StoredEvent | None:
    """A stored Messaging event's state as its struct (None: no struct reads that topic)."""
    decoder = DECODERS.get(topic)
    if decoder is None:
        return None
    event: StoredEvent = decoder.decode(state)
    return event
