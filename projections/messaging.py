"""Messaging read models: sends (campaign dashboards), messages (state per message, carrier
ids, search by number hash and date, and each message's history index: the notifications that
mention it).

Events are read as stored, with the stored events' structs (``adapters.postgres.stored_events``):
the dashboards never need a number or a text, so nothing is decrypted here, which keeps a
100,000-message campaign's read models up with the send path. A report never moves a message
backwards (``domain.messaging.states.advance``), so duplicates and late reports are harmless.
A send's state is the aggregate's own rule (``domain.messaging.send.state_after``) applied to
what its row keeps, never a second copy of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import Notification
from psycopg import sql

from adapters.postgres import stored_events as ev
from adapters.postgres.schema import ensure_schema
from domain.messaging.records import SubmitOutcome
from domain.messaging.send import SendState, state_after
from domain.messaging.states import MessageState, PartState, advance, roll_up

SCHEMA = """
CREATE TABLE IF NOT EXISTS msg_sends (
    send_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    lane text NOT NULL,
    name text NOT NULL,
    state text NOT NULL,
    total integer NOT NULL,
    recorded integer NOT NULL DEFAULT 0,
    parts integer NOT NULL,
    expected_cost bigint NOT NULL,
    skipped jsonb NOT NULL DEFAULT '[]',
    sender text NOT NULL,
    tariff text NOT NULL,
    list_id uuid,
    schedule_at timestamptz,
    review_required boolean NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    completed_at timestamptz
);
CREATE INDEX IF NOT EXISTS msg_sends_account ON msg_sends (account_id, created_at DESC);
CREATE INDEX IF NOT EXISTS msg_sends_sender ON msg_sends (sender, created_at);
-- which accounts sent as the sender a reply answers (services.replies)
CREATE INDEX IF NOT EXISTS msg_sends_due ON msg_sends (schedule_at)
    WHERE state IN ('scheduled', 'sending');
CREATE INDEX IF NOT EXISTS msg_sends_unsettled ON msg_sends (created_at)
    WHERE state IN ('awaiting_review', 'recorded');
CREATE TABLE IF NOT EXISTS msg_messages (
    message_id uuid PRIMARY KEY,
    send_id uuid NOT NULL,
    account_id uuid NOT NULL,
    idx integer NOT NULL,
    number_hash text NOT NULL,
    region text NOT NULL,
    encoding text NOT NULL,
    parts smallint NOT NULL,
    price integer NOT NULL,
    state text NOT NULL,
    part_states text[] NOT NULL,
    carrier_ids text[] NOT NULL DEFAULT '{}',
    route text,
    status_text text,
    error_code text,
    attempts smallint NOT NULL DEFAULT 0,
    uncertain boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL,
    submitted_at timestamptz,
    final_at timestamptz,
    updated_at timestamptz NOT NULL,
    history bigint[] NOT NULL DEFAULT '{}'
    -- the history index: the notifications that mention the message, each added once by the
    -- update that projects it (no index table with an insertion per message and event; a
    -- database of an earlier release gets the column by migration 2, see
    -- adapters/postgres/migrations.py)
);
CREATE INDEX IF NOT EXISTS msg_messages_send ON msg_messages (send_id, state, idx);
CREATE INDEX IF NOT EXISTS msg_messages_number
    ON msg_messages (account_id, number_hash, recorded_at);
CREATE INDEX IF NOT EXISTS msg_messages_account ON msg_messages (account_id, recorded_at);
CREATE INDEX IF NOT EXISTS msg_messages_open ON msg_messages (recorded_at)
    WHERE state IN ('queued', 'pending', 'buffered');
CREATE TABLE IF NOT EXISTS msg_replies (
    reply_id uuid PRIMARY KEY,
    notification_id bigint NOT NULL,
    route text NOT NULL,
    sender_hash text NOT NULL,
    recipient text NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS msg_unmatched_receipts (
    receipt_id uuid PRIMARY KEY,
    notification_id bigint NOT NULL,
    carrier text NOT NULL,
    carrier_id text NOT NULL,
    state text NOT NULL,
    status_text text NOT NULL,
    error_code text,
    final boolean NOT NULL,
    done_at timestamptz,
    received_at timestamptz NOT NULL,
    number_hash text NOT NULL,
    deliveries integer NOT NULL
);
CREATE INDEX IF NOT EXISTS msg_unmatched_receipts_received
    ON msg_unmatched_receipts (received_at, receipt_id);
CREATE INDEX IF NOT EXISTS msg_unmatched_receipts_number
    ON msg_unmatched_receipts (number_hash, received_at);
"""

OUTCOME_STATE = {
    SubmitOutcome.ACCEPTED: MessageState.PENDING,
    SubmitOutcome.REJECTED: MessageState.REJECTED,
    SubmitOutcome.CANCELLED: MessageState.CANCELLED,
    SubmitOutcome.EXPIRED: MessageState.REJECTED,  # never sent, nothing charged
}
OUTCOME_STATUS = {SubmitOutcome.EXPIRED: "validity period passed before submission"}
UNCERTAIN_BEFORE = "; an earlier attempt may have reached the carrier"
NOT_SENT = frozenset({SubmitOutcome.CANCELLED, SubmitOutcome.EXPIRED})
"""Outcomes of messages that did not go on the wire (no submission time)."""


_INSERT_MESSAGES = sql.SQL(
    "INSERT INTO msg_messages (message_id, send_id, account_id, idx, number_hash,"
    " region, encoding, parts, price, state, part_states, recorded_at, updated_at,"
    " history)"
    " SELECT u.id, %s, %s, u.idx, u.hash, u.region, u.encoding, u.parts, u.price,"
    " %s, array_fill(NULL::text, ARRAY[u.parts]), %s, %s, ARRAY[%s::bigint]"
    " FROM unnest(%b::uuid[], %b::int[], %b::text[], %b::text[], %b::text[],"
    " %b::int[], %b::int[]) AS u(id, idx, hash, region, encoding, parts, price) {on_conflict}"
)
_ON_CONFLICT = {
    # A message shown as scheduled before it was recorded is queued once it is.
    "queued": sql.SQL(
        "ON CONFLICT (message_id) DO UPDATE SET state = 'queued',"
        " recorded_at = EXCLUDED.recorded_at, updated_at = EXCLUDED.updated_at,"
        " history = msg_messages.history || EXCLUDED.history"
        " WHERE msg_messages.state = 'scheduled'"
    ),
    "scheduled": sql.SQL("ON CONFLICT DO NOTHING"),
}


class Notified(NamedTuple):
    """A stored event and the aggregate it belongs to (a column, not part of its state)."""

    originator_id: UUID
    event: ev.StoredEvent


class MessagingProjection:
    name = "messaging"

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        ensure_schema(conn, SCHEMA)

    def decode(self, notification: Notification) -> Notified | None:
        event = ev.decode(notification.topic, notification.state)
        if event is None:
            return None
        originator_id = notification.originator_id
        return Notified(
            originator_id if isinstance(originator_id, UUID) else UUID(originator_id), event
        )

    def process(
        self, conn: psycopg.Connection[Any], events: Sequence[tuple[int, Notified]]
    ) -> None:
        for notification_id, (originator_id, event) in events:
            if isinstance(event, ev.SendAccepted):
                self._send_accepted(conn, originator_id, event)
            elif isinstance(event, ev.SendMessagesScheduled):
                self._scheduled(conn, notification_id, originator_id, event)
            elif isinstance(event, ev.SendChanged):
                self._send_changed(conn, originator_id, event)
            elif isinstance(event, ev.ChunkRecorded):
                self._chunk(conn, notification_id, event)
            elif isinstance(event, ev.CarrierReportRecorded):
                self._results(conn, notification_id, event)
            elif isinstance(event, ev.DeliveryBatchRecorded):
                self._reports(conn, notification_id, event)
            elif isinstance(event, ev.ReplyBatchRecorded):
                self._replies(conn, notification_id, event)
            elif isinstance(event, ev.UnmatchedReceiptsRecorded):
                self._unmatched(conn, notification_id, event)

    def _send_accepted(
        self, conn: psycopg.Connection[Any], send_id: UUID, e: ev.SendAccepted
    ) -> None:
        state = state_after(
            e.event_class, None, review_required=e.review_required, schedule_at=e.schedule_at
        )
        conn.execute(
            "INSERT INTO msg_sends (send_id, account_id, lane, name, state, total, parts,"
            " expected_cost, skipped, sender, tariff, list_id, schedule_at, review_required,"
            " created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                send_id,
                e.account_id,
                e.lane,
                e.name,
                state.value,
                e.total,
                e.parts,
                e.expected_cost,
                msgspec.json.encode(e.skipped).decode(),
                e.sender,
                e.tariff,
                e.list_id,
                e.schedule_at,
                e.review_required,
                e.timestamp,
                e.timestamp,
            ),
        )

    def _send_changed(
        self, conn: psycopg.Connection[Any], send_id: UUID, e: ev.SendChanged
    ) -> None:
        # Send events are few (a handful per send and chunk): reading the row for each costs
        # nothing next to a chunk's messages, and keeps the state machine in the domain.
        row = conn.execute(
            "SELECT state, schedule_at, recorded, total FROM msg_sends WHERE send_id = %s",
            (send_id,),
        ).fetchone()
        if row is None:
            return
        count = e.count if isinstance(e, ev.SendChunkRecorded) else 0
        state = state_after(
            e.event_class,
            SendState(row[0]),
            schedule_at=row[1],
            recorded=row[2],
            total=row[3],
            count=count,
        )
        completed = isinstance(e, ev.SendCompleted)
        if isinstance(e, ev.SendCancelled):  # scheduled messages never recorded: cancelled
            conn.execute(
                "UPDATE msg_messages SET state = 'cancelled', final_at = %s, updated_at = %s"
                " WHERE send_id = %s AND state = 'scheduled'",
                (e.timestamp, e.timestamp, send_id),
            )
        conn.execute(
            "UPDATE msg_sends SET state = %s, recorded = recorded + %s, updated_at = %s,"
            " completed_at = CASE WHEN %s THEN %s ELSE completed_at END WHERE send_id = %s",
            (state.value, count, e.timestamp, completed, e.timestamp, send_id),
        )

    def _chunk(
        self, conn: psycopg.Connection[Any], notification_id: int, e: ev.ChunkRecorded
    ) -> None:
        self._insert_messages(
            conn, notification_id, e.send_id, e.account_id, e.timestamp, e.messages, "queued"
        )

    def _scheduled(
        self,
        conn: psycopg.Connection[Any],
        notification_id: int,
        send_id: UUID,
        e: ev.SendMessagesScheduled,
    ) -> None:
        account = conn.execute(
            "SELECT account_id FROM msg_sends WHERE send_id = %s", (send_id,)
        ).fetchone()
        if account is None:
            return
        self._insert_messages(
            conn, notification_id, send_id, account[0], e.timestamp, e.messages, "scheduled"
        )

    @staticmethod
    def _insert_messages(
        conn: psycopg.Connection[Any],
        notification_id: int,
        send_id: UUID,
        account_id: UUID,
        at: datetime,
        m: Sequence[ev.StoredMessage | ev.StoredScheduledMessage],
        state: Literal["queued", "scheduled"],
    ) -> None:
        conn.execute(
            _INSERT_MESSAGES.format(on_conflict=_ON_CONFLICT[state]),
            (send_id, account_id, state, at, at, notification_id,
             [x.message_id for x in m], [x.index for x in m], [x.number_hash for x in m],
             [x.region for x in m], [x.encoding for x in m], [x.parts for x in m],
             [x.price for x in m]),
        )  # fmt: skip

    def _results(
        self, conn: psycopg.Connection[Any], notification_id: int, e: ev.CarrierReportRecorded
    ) -> None:
        latest: dict[UUID, ev.StoredResult] = {}
        for r in e.results:  # an uncertain attempt and its resubmit: the later one counts
            previous = latest.get(r.message_id)
            if previous is None or r.attempt >= previous.attempt:
                latest[r.message_id] = r
        uncertain = {r.message_id for r in e.results if r.outcome is SubmitOutcome.UNCERTAIN}
        rows = list(latest.values())
        states = [state.value if (state := OUTCOME_STATE.get(r.outcome)) else None for r in rows]
        # A result never overrides a final state (a late duplicate of an earlier attempt).
        conn.execute(
            "UPDATE msg_messages m SET"
            " state = CASE WHEN m.state IN ('delivered', 'failed', 'rejected', 'cancelled')"
            "  OR u.state IS NULL THEN m.state ELSE u.state END,"
            " carrier_ids = CASE WHEN u.ids <> '' THEN string_to_array(u.ids, ',')"
            "  ELSE m.carrier_ids END,"
            " route = %s, attempts = GREATEST(m.attempts, u.attempt),"
            " uncertain = m.uncertain OR u.uncertain,"
            " submitted_at = COALESCE(m.submitted_at, CASE WHEN u.sent THEN u.at END),"
            " error_code = COALESCE(u.error, m.error_code), updated_at = u.at,"
            " status_text = COALESCE(CASE WHEN u.status IS NOT NULL"
            "  AND (m.uncertain OR u.uncertain) THEN u.status || %s ELSE u.status END,"
            "  m.status_text),"
            " history = CASE WHEN %s::bigint = ANY(m.history) THEN m.history"
            " ELSE array_append(m.history, %s::bigint) END"
            " FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[], %b::bool[],"
            " %b::timestamptz[], %b::text[], %b::text[], %b::bool[])"
            " AS u(id, state, ids, attempt, uncertain, at, error, status, sent)"
            " WHERE m.message_id = u.id",
            (e.route, UNCERTAIN_BEFORE, notification_id, notification_id,
             [r.message_id for r in rows], states,
             [",".join(r.carrier_ids) for r in rows], [r.attempt for r in rows],
             [r.message_id in uncertain for r in rows], [r.at for r in rows],
             [str(r.command_status) if r.command_status else None for r in rows],
             [OUTCOME_STATUS.get(r.outcome) for r in rows],
             [r.outcome not in NOT_SENT for r in rows]),
        )  # fmt: skip

    def _reports(
        self, conn: psycopg.Connection[Any], notification_id: int, e: ev.DeliveryBatchRecorded
    ) -> None:
        ids = list({r.message_id for r in e.reports})
        current = {
            row[0]: (MessageState(row[1]), row[2], list(row[3]))
            for row in conn.execute(
                "SELECT message_id, state, parts, part_states FROM msg_messages"
                " WHERE message_id = ANY(%b) FOR UPDATE",
                (ids,),
            ).fetchall()
        }
        updates: dict[UUID, tuple[Any, ...]] = {}
        for report in e.reports:
            if report.message_id not in current:
                continue
            state, parts, part_states = current[report.message_id]
            if report.source == "validity":
                new_state = advance(state, MessageState.UNCONFIRMED)
            else:
                if 1 <= report.part <= len(part_states):
                    part_states[report.part - 1] = report.state
                rolled = roll_up(parts, [PartState(s) if s else None for s in part_states])
                new_state = advance(state, rolled)
            current[report.message_id] = (new_state, parts, part_states)
            final_at = report.received_at if new_state in FINAL else None
            updates[report.message_id] = (
                new_state.value, ",".join(s or "" for s in part_states), report.status_text,
                report.error_code, final_at, report.received_at,
            )  # fmt: skip
        if updates:
            values = list(updates.values())
            conn.execute(
                "UPDATE msg_messages m SET state = u.state,"
                " part_states = array_replace(string_to_array(u.parts, ','), '', NULL),"
                " status_text = u.status, error_code = COALESCE(u.error, m.error_code),"
                " final_at = COALESCE(m.final_at, u.final_at), updated_at = u.at,"
                " history = CASE WHEN %s::bigint = ANY(m.history) THEN m.history"
                " ELSE array_append(m.history, %s::bigint) END"
                " FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::text[], %b::text[],"
                " %b::timestamptz[], %b::timestamptz[])"
                " AS u(id, state, parts, status, error, final_at, at) WHERE m.message_id = u.id",
                (notification_id, notification_id, list(updates),
                 *map(list, zip(*values, strict=True))),
            )  # fmt: skip

    def _replies(
        self, conn: psycopg.Connection[Any], notification_id: int, e: ev.ReplyBatchRecorded
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO msg_replies VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (
                        r.reply_id,
                        notification_id,
                        e.route,
                        r.sender_hash,
                        r.recipient,
                        r.received_at,
                    )
                    for r in e.replies
                ],
            )

    def _unmatched(
        self, conn: psycopg.Connection[Any], notification_id: int, e: ev.UnmatchedReceiptsRecorded
    ) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO msg_unmatched_receipts VALUES"
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (
                        r.receipt_id,
                        notification_id,
                        r.carrier,
                        r.carrier_id,
                        r.state,
                        r.status_text,
                        r.error_code,
                        r.final,
                        r.done_at,
                        r.received_at,
                        r.number_hash,
                        r.deliveries,
                    )
                    for r in e.receipts
                ],
            )


FINAL = frozenset({MessageState.DELIVERED, MessageState.FAILED})
