"""NATS payloads of the send path (msgspec Structs). Numbers and texts travel sealed exactly as
the event store holds them (``Sealed``: ``{"k": data key id, "c": ciphertext}``): no NATS
message carries personal data in plain text, and the relay never decrypts."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from adapters.postgres import stored_events

Sealed = stored_events.Sealed
"""Personal data as the event store holds it; defined once, with the stored events."""


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
    expires_at: float | None = None
    """When its send's reservation expires (epoch seconds): a message still unsent then is
    never sent. None for messages recorded before sends kept it (their recording time plus the
    validity period stands in)."""


class OutboundBatch(msgspec.Struct, frozen=True):
    """Messages of one send that travel as one NATS message: the relay publishes a recorded
    chunk as one (or a few, see ``MAX_BATCH_BYTES``), the dispatcher one per route of it. Each
    message keeps its own id and is claimed, submitted and recorded on its own."""

    messages: list[OutboundMessage]


MAX_BATCH_BYTES = 256 * 1024
"""A batch's payload at most (NATS refuses messages above its max_payload, 1 MiB by default)."""


def batch_payloads(
    messages: Sequence[OutboundMessage], max_parts: int | None = None
) -> list[tuple[bytes, int, int]]:
    """``messages`` as ``OutboundBatch`` payloads of at most ``MAX_BATCH_BYTES`` and (if
    given) ``max_parts`` SMS parts each, in order: (payload, messages, parts) per batch. The
    same messages always give the same batches, so a republished batch keeps its id."""
    out: list[tuple[bytes, int, int]] = []
    current: list[bytes] = []
    size = parts = 0
    for message in messages:
        encoded = encoder.encode(message)
        full = size + len(encoded) > MAX_BATCH_BYTES or (
            max_parts is not None and parts + message.parts > max_parts
        )
        if current and full:
            out.append((_batch(current), len(current), parts))
            current, size, parts = [], 0, 0
        current.append(encoded)
        size += len(encoded) + 1
        parts += message.parts
    if current:
        out.append((_batch(current), len(current), parts))
    return out


def _batch(encoded: list[bytes]) -> bytes:
    """An ``OutboundBatch`` payload from messages already encoded (no second encoding)."""
    return b'{"messages":[' + b",".join(encoded) + b"]}"


class InboundPdu(msgspec.Struct, frozen=True):
    """A deliver_sm as received (receipt or MO), stored in JetStream before it is answered."""

    route: str
    carrier: str
    received_at: float
    pdu: bytes


class InboundBatch(msgspec.Struct, frozen=True):
    """deliver_sm PDUs of one bind stored as one NATS message: those that arrived together
    (the SMSC sends up to its window at once) are stored with one publish and one
    acknowledgement instead of one each."""

    items: list[InboundPdu]


class StatusQuery(msgspec.Struct, frozen=True):
    """An operator's question to the carrier about one part of a message (query_sm)."""

    message_id: UUID
    send_id: UUID
    account_id: UUID
    part: int
    carrier_id: str
    sender: str


encoder = msgspec.json.Encoder()
batch_decoder = msgspec.json.Decoder(OutboundBatch)
inbound_decoder = msgspec.json.Decoder(InboundBatch)
query_decoder = msgspec.json.Decoder(StatusQuery)
