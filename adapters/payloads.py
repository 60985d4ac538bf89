"""NATS payloads of the send path (msgspec Structs). Numbers and texts travel sealed exactly as
the event store holds them (``{"k": data key id, "c": ciphertext}``): no NATS message carries
personal data in plain text, and the relay never decrypts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Sealed(msgspec.Struct, frozen=True):
    k: str
    c: str | None


class RawMessage(msgspec.Struct, frozen=True):
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


class ChunkEvent(msgspec.Struct, frozen=True):
    """A ``MessageChunk`` creation event as stored (only the fields the relay needs)."""

    send_id: UUID
    chunk: int
    account_id: UUID
    lane: str
    sender: str
    tariff: str
    messages: list[RawMessage]
    timestamp: datetime


class OutboundMessage(msgspec.Struct, frozen=True):
    message_id: UUID
    send_id: UUID
    account_id: UUID
    index: int
    lane: str
    sender: str
    tariff: str
    region: str
    number_hash: str
    number: Sealed
    text: Sealed
    encoding: str
    parts: int
    price: int
    delivery_reports: bool
    recorded_at: float
    """When the message was recorded (epoch seconds): latency figures start here."""


class InboundPdu(msgspec.Struct, frozen=True):
    """A deliver_sm as received (receipt or MO), stored in JetStream before it is answered."""

    route: str
    carrier: str
    received_at: float
    pdu: bytes


class StatusQuery(msgspec.Struct, frozen=True):
    """An operator's question to the carrier about one part of a message (query_sm)."""

    message_id: UUID
    send_id: UUID
    account_id: UUID
    part: int
    carrier_id: str
    sender: str


encoder = msgspec.json.Encoder()
outbound_decoder = msgspec.json.Decoder(OutboundMessage)
chunk_decoder = msgspec.json.Decoder(ChunkEvent)
inbound_decoder = msgspec.json.Decoder(InboundPdu)
query_decoder = msgspec.json.Decoder(StatusQuery)
