"""A message's state and its whole history, replayed from the event store in order.

The history index (``msg_messages.history``) names the notifications that mention the message;
they are read with the stored events' structs (``adapters.postgres.stored_events``) and only the
entries about this message are kept. Nothing else is opened: the message's number and text are
the only values decrypted (so the owner sees them, and a shredded key shows the redaction
marker), not the other 499 recipients of its chunk. Each entry's details are fields of the
stored record, named below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec

from adapters.postgres import stored_events as stored
from api.context import ApiContext
from api.schemas.messages import HistoryEntry, MessageDetail, MessageRow
from domain.messaging.batches import MessageChunk, chunk_id
from domain.messaging.records import RecordedMessage
from domain.messaging.states import COLOURS, MessageState
from domain.personal import REDACTED
from projections import messaging_queries as q
from projections import replies

RECORDED = ("parts", "price", "encoding", "region")
"""What a ``recorded`` entry shows of the message, followed by ``CHUNK`` of its chunk."""
CHUNK = ("sender", "tariff", "lane")
CARRIER_RESULT = ("outcome", "carrier_ids", "command_status", "attempt", "route")
DELIVERY_REPORT = (
    "part",
    "carrier_id",
    "state",
    "status_text",
    "error_code",
    "final",
    "done_at",
    "source",
)


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


def stored_events(ctx: ApiContext, notification_ids: list[int]) -> list[stored.StoredEvent | None]:
    """The Messaging notifications of these ids in order, as stored (None: a topic no struct
    reads)."""
    table = f"{ctx.backend.messaging.name.lower()}_events"
    with ctx.pool.connection() as conn:
        rows = conn.execute(
            f"SELECT topic, state FROM {table}"  # noqa: S608
            f" WHERE notification_id = ANY(%b) ORDER BY notification_id",
            (notification_ids,),
        ).fetchall()
    return [stored.decode(topic, bytes(state)) for topic, state in rows]


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


def opened_replies(
    ctx: ApiContext, rows: list[dict[str, Any]]
) -> dict[UUID, tuple[str | None, str]]:
    """The numbers (None once erased) and texts of these replies' rows, opened from the
    events the ingest recorded them in (one read of the events and one of the keys)."""
    wanted = {r["reply_id"] for r in rows}
    replies = [
        reply
        for event in stored_events(ctx, sorted({int(r["notification_id"]) for r in rows}))
        if isinstance(event, stored.ReplyBatchRecorded)
        for reply in event.replies
        if reply.reply_id in wanted
    ]
    keyring = ctx.backend.keyring
    keyring.prefetch([UUID(r.sender.k) for r in replies])
    return {
        r.reply_id: (r.sender.opened(keyring).value, r.text.opened(keyring).shown())
        for r in replies
    }


def reply_entries(ctx: ApiContext, message_id: UUID) -> list[HistoryEntry]:
    """The replies to a message, as entries of its history."""
    rows = replies.of_message(ctx.pool, message_id)
    opened = opened_replies(ctx, rows) if rows else {}
    return [
        HistoryEntry(position=int(r["notification_id"]), at=r["received_at"], event="reply",
                     details={"text": opened.get(r["reply_id"], (None, REDACTED))[1],
                              "stop": r["stop"], "reply_id": str(r["reply_id"])})
        for r in rows
    ]  # fmt: skip


def message_detail(ctx: ApiContext, row: dict[str, Any]) -> MessageDetail:
    events = stored_events(ctx, q.history_ids(ctx.pool, row["message_id"]))
    history = message_history(row["message_id"], events, ctx.backend.keyring)
    entries = sorted(history.entries + reply_entries(ctx, row["message_id"]),
                     key=lambda e: e.position)  # fmt: skip
    to, text = history.to, history.text
    if row["state"] == MessageState.SCHEDULED:  # not recorded yet: staged for its time
        staged = ctx.acceptance.staging.chunk(row["send_id"], row["idx"], 1)
        if staged:
            to, text = staged[0].number.shown(), staged[0].text.shown()
    display = "00" + to[1:] if to.startswith("+") else to
    return MessageDetail(
        message=message_row(row),
        to=display,
        text=text,
        encoding=row["encoding"],
        route=row["route"],
        history=entries,
    )


@dataclass(frozen=True)
class History:
    to: str
    """The number as recorded (E.164), or the redaction marker."""
    text: str
    entries: list[HistoryEntry]


def message_history(
    message_id: UUID, events: Sequence[stored.StoredEvent | None], keyring: stored.Opener
) -> History:
    """The entries of ``events`` (a message's history notifications, in order) about one
    message, each at its position among them, and its number and text opened."""
    entries: list[HistoryEntry] = []
    recorded: stored.StoredMessage | None = None
    for position, event in enumerate(events):
        if isinstance(event, stored.ChunkRecorded):
            for m in event.messages:
                if m.message_id == message_id:
                    recorded = m
                    details = {**_shown(m, RECORDED), **_shown(event, CHUNK)}
                    entries.append(HistoryEntry(position, event.timestamp, "recorded", details))
        elif event is not None:
            entries.extend(_entries(message_id, position, event))
    if recorded is None:
        return History(REDACTED, REDACTED, entries)
    to = recorded.number.opened(keyring).shown()
    return History(to, recorded.text.opened(keyring).shown(), entries)


def _entries(message_id: UUID, position: int, event: stored.StoredEvent) -> list[HistoryEntry]:
    """The entries of one notification other than a chunk's about the message."""
    if isinstance(event, stored.SendMessagesScheduled):
        return [
            HistoryEntry(position, event.timestamp, "scheduled", _shown(s, RECORDED))
            for s in event.messages
            if s.message_id == message_id
        ]
    if isinstance(event, stored.CarrierReportRecorded):
        return [
            HistoryEntry(position, r.at, "carrier_result", _shown(r, CARRIER_RESULT))
            for r in event.results
            if r.message_id == message_id
        ]
    if isinstance(event, stored.DeliveryBatchRecorded):
        return [
            HistoryEntry(position, d.received_at, "delivery_report", _shown(d, DELIVERY_REPORT))
            for d in event.reports
            if d.message_id == message_id
        ]
    return []


def _shown(record: msgspec.Struct, names: tuple[str, ...]) -> dict[str, Any]:
    fields = msgspec.structs.asdict(record)
    return {name: fields[name] for name in names}
