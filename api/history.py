"""A message's state and its whole history, replayed from the event store in order.

The history index (``msg_messages.history``) names the notifications that mention the message;
they are read and decoded with the application's mapper (so the owner sees number and text, and
a shredded key shows the redaction marker), and only the entries about this message are kept.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from api.context import ApiContext
from api.schemas.messages import HistoryEntry, MessageDetail, MessageRow
from domain.messaging.batches import CarrierReport, DeliveryBatch, MessageChunk, chunk_id
from domain.messaging.records import RecordedMessage
from domain.messaging.states import COLOURS, MessageState
from domain.personal import REDACTED
from projections import messaging_queries as q


def message_row(row: dict[str, Any]) -> MessageRow:
    return MessageRow(
        message_id=row["message_id"],
        send_id=row["send_id"],
        index=row["idx"],
        state=row["state"],
        colour=COLOURS[MessageState(row["state"])],
        parts=row["parts"],
        price=row["price"],
        region=row["region"],
        carrier_ids=list(row["carrier_ids"]),
        status_text=row["status_text"],
        error_code=row["error_code"],
        uncertain=row["uncertain"],
        recorded_at=row["recorded_at"],
        submitted_at=row["submitted_at"],
        final_at=row["final_at"],
    )


def stored_events(ctx: ApiContext, notification_ids: list[int]) -> list[tuple[int, Any]]:
    table = f"{ctx.backend.messaging.name.lower()}_events"
    with ctx.pool.connection() as conn:
        rows = conn.execute(
            f"SELECT notification_id, originator_id, originator_version, topic, state"  # noqa: S608
            f" FROM {table} WHERE notification_id = ANY(%b) ORDER BY notification_id",
            (notification_ids,),
        ).fetchall()
    mapper = ctx.backend.messaging.mapper
    return [
        (n, mapper.to_domain_event(StoredEvent(oid, version, topic, bytes(state))))
        for n, oid, version, topic, state in rows
    ]


def recorded_messages(ctx: ApiContext, send_id: UUID) -> list[RecordedMessage]:
    """The messages of a send (a repeated Idempotency-Key shows the first result): those
    recorded so far, then those still staged for the expander (a scheduled send)."""
    messaging = ctx.backend.messaging
    send = messaging.send(send_id)
    found: list[RecordedMessage] = []
    for chunk in range(send.chunks):
        for event in messaging.events.get(chunk_id(send_id, chunk)):
            if isinstance(event, MessageChunk.Recorded):
                found.extend(event.messages)
    if len(found) < send.total:
        found.extend(ctx.acceptance.staging.chunk(send_id, len(found), send.total - len(found)))
    return found


def message_detail(ctx: ApiContext, row: dict[str, Any]) -> MessageDetail:
    message_id = row["message_id"]
    history: list[HistoryEntry] = []
    to, text = REDACTED, REDACTED
    for position, (_, event) in enumerate(stored_events(ctx, q.history_ids(ctx.pool, message_id))):
        if isinstance(event, MessageChunk.Recorded):
            for m in event.messages:
                if m.message_id == message_id:
                    to, text = m.number.shown(), m.text.shown()
                    history.append(
                        HistoryEntry(
                            position,
                            event.timestamp,
                            "recorded",
                            {
                                "parts": m.parts,
                                "price": m.price,
                                "encoding": m.encoding,
                                "region": m.region,
                                "sender": event.sender,
                                "tariff": event.tariff.value,
                                "lane": event.lane.value,
                            },
                        )
                    )
        elif isinstance(event, CarrierReport.Recorded):
            for r in event.results:
                if r.message_id == message_id:
                    history.append(
                        HistoryEntry(
                            position,
                            r.at,
                            "carrier_result",
                            {
                                "outcome": r.outcome.value,
                                "carrier_ids": list(r.carrier_ids),
                                "command_status": r.command_status,
                                "attempt": r.attempt,
                                "route": r.route,
                            },
                        )
                    )
        elif isinstance(event, DeliveryBatch.Recorded):
            for d in event.reports:
                if d.message_id == message_id:
                    history.append(
                        HistoryEntry(
                            position,
                            d.received_at,
                            "delivery_report",
                            {
                                "part": d.part,
                                "carrier_id": d.carrier_id,
                                "state": d.state,
                                "status_text": d.status_text,
                                "error_code": d.error_code,
                                "final": d.final,
                                "done_at": d.done_at,
                                "source": d.source,
                            },
                        )
                    )
    display = "00" + to[1:] if to.startswith("+") else to
    return MessageDetail(
        message=message_row(row),
        to=display,
        text=text,
        encoding=row["encoding"],
        route=row["route"],
        history=history,
    )
