"""What the outbox publishes for a recorded ``MessageChunk``: its messages as ``OutboundBatch``
payloads on the lane's out subject, each with its ``Nats-Msg-Id`` (the chunk event's id and
version and the batch's number).

Two publishers use it and must agree to the byte on ids: the outbox relay, which follows the
notification log and publishes every chunk (the guarantee), and the API, which publishes a single
send's chunk right after answering (the fast path). Whichever comes second is dropped by
JetStream's duplicate window; beyond it the consumers are idempotent (a claimed message is never
submitted again).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import Notification

from adapters.jetstream.connection import NatsConnection
from adapters.jetstream.payloads import OutboundMessage, batch_payloads
from adapters.jetstream.topology import Topology
from adapters.postgres import stored_events

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publication:
    subject: str
    payload: bytes
    msg_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Nats-Msg-Id": self.msg_id}


def outbound(notification: Notification) -> list[OutboundMessage]:
    """The messages of a recorded chunk (its stored state, sealed as stored); none for an event
    that records no chunk."""
    chunk = stored_events.decode(notification.topic, notification.state)
    if not isinstance(chunk, stored_events.ChunkRecorded):
        return []
    recorded_at = chunk.timestamp.timestamp()
    expires_at = chunk.expires_at.timestamp() if chunk.expires_at is not None else None
    return [
        OutboundMessage(
            message_id=m.message_id,
            send_id=chunk.send_id,
            account_id=chunk.account_id,
            index=m.index,
            lane=chunk.lane,
            sender=chunk.sender,
            tariff=chunk.tariff,
            region=m.region,
            number_hash=m.number_hash,
            number=m.number,
            text=m.text,
            encoding=m.encoding,
            parts=m.parts,
            price=m.price,
            delivery_reports=m.delivery_reports,
            recorded_at=recorded_at,
            expires_at=expires_at,
        )
        for m in chunk.messages
    ]


def publications(topology: Topology, notification: Notification) -> list[Publication]:
    """A recorded chunk as the NATS messages that carry it (none for an empty chunk)."""
    messages = outbound(notification)
    if not messages:
        return []
    subject = topology.out_subject(messages[0].lane, messages[0].account_id)
    chunk = f"{notification.originator_id}:{notification.originator_version}"
    return [
        Publication(subject, payload, f"{chunk}:{n}")
        for n, (payload, _, _) in enumerate(batch_payloads(messages))
    ]


async def publish_now(
    nats: NatsConnection, topology: Topology, notifications: Sequence[Notification]
) -> int:
    """The fast path: publish recorded chunks at once, without waiting for the relay. A failure
    is only logged (NATS away, a timeout): the relay publishes them anyway. Returns how many
    NATS messages JetStream stored as new."""
    stored = 0
    try:
        jetstream = nats.jetstream  # raises while NATS is away
        for notification in notifications:
            for p in publications(topology, notification):
                ack = await jetstream.publish(p.subject, p.payload, timeout=2.0, headers=p.headers)
                stored += 0 if ack.duplicate else 1
    except Exception as exc:  # noqa: BLE001 - the relay is the guarantee; this only speeds up
        log.warning(
            "publishing a recorded chunk at once failed; the relay will",
            extra={"error": repr(exc)},
        )
    return stored
