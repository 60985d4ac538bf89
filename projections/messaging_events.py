"""Messaging events as stored, decoded straight from their JSON for the read models.

Only the fields the dashboards use are declared; numbers and texts stay sealed and are never
decrypted here. Dispatch is by the stored topic (event class path), which is a public API of
the event store (see CONVENTIONS 12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from domain.messaging.batches import (
    CarrierReport,
    DeliveryBatch,
    MessageChunk,
    ReplyBatch,
    UnmatchedReceipts,
)
from domain.messaging.send import Send


class _Event(msgspec.Struct, kw_only=True):
    timestamp: datetime
    originator_id: UUID | None = None


class Skipped(msgspec.Struct):
    reason: str
    count: int


class SendAccepted(_Event):
    account_id: UUID
    lane: str
    sender: str
    tariff: str
    list_id: UUID | None
    total: int
    parts: int
    expected_cost: int
    skipped: list[Skipped]
    schedule_at: datetime | None
    review_required: bool
    name: str


class SendChanged(_Event):
    state: str | None = None
    count: int = 0


class Message(msgspec.Struct):
    index: int
    message_id: UUID
    number_hash: str
    region: str
    encoding: str
    parts: int
    price: int


class ChunkRecorded(_Event):
    send_id: UUID
    account_id: UUID
    messages: list[Message]


class Result(msgspec.Struct):
    message_id: UUID
    send_id: UUID
    index: int
    outcome: str
    carrier_ids: list[str]
    command_status: int
    attempt: int
    at: datetime


class CarrierRecorded(_Event):
    route: str
    results: list[Result]


class Report(msgspec.Struct):
    message_id: UUID
    part: int
    state: str
    status_text: str
    error_code: str | None
    final: bool
    received_at: datetime
    source: str


class DeliveriesRecorded(_Event):
    route: str
    reports: list[Report]


class ReplyRow(msgspec.Struct):
    reply_id: UUID
    sender_hash: str
    recipient: str
    received_at: datetime


class RepliesRecorded(_Event):
    route: str
    replies: list[ReplyRow]


class UnmatchedRow(msgspec.Struct):
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
    deliveries: int


class UnmatchedRecorded(_Event):
    receipts: list[UnmatchedRow]


_DECODERS: dict[str, tuple[msgspec.json.Decoder[Any], dict[str, Any]]] = {
    get_topic(Send.Accepted): (msgspec.json.Decoder(SendAccepted), {}),
    get_topic(Send.ReviewReleased): (msgspec.json.Decoder(SendChanged), {"state": "released"}),
    get_topic(Send.ChunkRecorded): (msgspec.json.Decoder(SendChanged), {"state": "chunk"}),
    get_topic(Send.Cancelled): (msgspec.json.Decoder(SendChanged), {"state": "cancelled"}),
    get_topic(Send.Completed): (msgspec.json.Decoder(SendChanged), {"state": "completed"}),
    get_topic(MessageChunk.Recorded): (msgspec.json.Decoder(ChunkRecorded), {}),
    get_topic(MessageChunk.TransactionalRecorded): (msgspec.json.Decoder(ChunkRecorded), {}),
    get_topic(CarrierReport.Recorded): (msgspec.json.Decoder(CarrierRecorded), {}),
    get_topic(DeliveryBatch.Recorded): (msgspec.json.Decoder(DeliveriesRecorded), {}),
    get_topic(ReplyBatch.Recorded): (msgspec.json.Decoder(RepliesRecorded), {}),
    get_topic(UnmatchedReceipts.Recorded): (msgspec.json.Decoder(UnmatchedRecorded), {}),
}


def decode(notification: Notification) -> Any:
    entry = _DECODERS.get(notification.topic)
    if entry is None:
        return None
    decoder, extra = entry
    event = decoder.decode(notification.state)
    event.originator_id = (
        notification.originator_id
        if isinstance(notification.originator_id, UUID)
        else UUID(str(notification.originator_id))
    )
    for name, value in extra.items():
        setattr(event, name, value)
    return event


def skipped_json(skipped: list[Skipped]) -> str:
    return msgspec.json.encode(skipped).decode()
