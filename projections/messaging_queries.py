"""Reading the messaging read models: campaigns, their messages, message search and the
notification ids of a message's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from domain.ledger.billing import BERLIN
from projections.messaging import MessagingProjection
from projections.runner import position

MESSAGE_COLUMNS = (
    "message_id, send_id, idx, state, parts, price, region, carrier_ids, status_text,"
    " error_code, uncertain, recorded_at, submitted_at, final_at, account_id, number_hash,"
    " encoding, route"
)


def _rows(pool: ConnectionPool[Any], query: str, params: Any) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def send_row(pool: ConnectionPool[Any], send_id: UUID) -> dict[str, Any] | None:
    rows = _rows(pool, "SELECT * FROM msg_sends WHERE send_id = %s", (send_id,))
    return rows[0] if rows else None


def sends(
    pool: ConnectionPool[Any],
    account_id: UUID,
    lane: str | None,
    before: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    return _rows(
        pool,
        "SELECT * FROM msg_sends WHERE account_id = %(a)s"
        " AND (%(lane)s::text IS NULL OR lane = %(lane)s)"
        " AND (%(before)s::timestamptz IS NULL OR created_at < %(before)s)"
        " ORDER BY created_at DESC LIMIT %(limit)s",
        {"a": account_id, "lane": lane, "before": before, "limit": limit},
    )


def state_counts(pool: ConnectionPool[Any], send_id: UUID) -> dict[str, int]:
    rows = _rows(
        pool,
        "SELECT state, count(*) AS n FROM msg_messages WHERE send_id = %s GROUP BY state",
        (send_id,),
    )
    return {row["state"]: int(row["n"]) for row in rows}


def messaging_accounts(pool: ConnectionPool[Any]) -> list[UUID]:
    """Every account that has sends."""
    return [row["account_id"] for row in _rows(
        pool, "SELECT DISTINCT account_id FROM msg_sends ORDER BY account_id", ())]  # fmt: skip


def accounts_with_number(pool: ConnectionPool[Any], number_hashes: dict[UUID, str]) -> list[UUID]:
    """The accounts whose messages went to the number, given as its hash under each
    account's own lookup secret (hashes never link accounts: each is looked up in its own)."""
    rows = _rows(
        pool,
        "SELECT p.a AS account_id FROM unnest(%s::uuid[], %s::text[]) AS p(a, h)"
        " WHERE EXISTS (SELECT 1 FROM msg_messages m WHERE m.account_id = p.a"
        " AND m.number_hash = p.h) ORDER BY p.a",
        (list(number_hashes), list(number_hashes.values())),
    )
    return [row["account_id"] for row in rows]


@dataclass(frozen=True)
class Answered:
    """The outgoing message a reply answers."""

    account_id: UUID
    message_id: UUID
    send_id: UUID
    recorded_at: datetime


class ReplyCandidates:
    """The messages a reply may answer, as the messaging read side has them
    (``services.replies.ReplyMessages``)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def accounts_sending_as(self, sender: str, since: datetime) -> list[UUID]:
        rows = _rows(
            self.pool,
            "SELECT DISTINCT account_id FROM msg_sends WHERE sender = %s AND created_at >= %s",
            (sender, since),
        )
        return [row["account_id"] for row in rows]

    def latest_to(
        self, number_hashes: dict[UUID, str], sender: str, since: datetime, until: datetime
    ) -> Answered | None:
        rows = _rows(
            self.pool,
            "SELECT m.account_id, m.message_id, m.send_id, m.recorded_at"
            " FROM unnest(%s::uuid[], %s::text[]) AS p(a, h)"
            " JOIN msg_messages m ON m.account_id = p.a AND m.number_hash = p.h"
            " AND m.recorded_at >= %s AND m.recorded_at <= %s"
            " JOIN msg_sends s ON s.send_id = m.send_id AND s.sender = %s"
            " ORDER BY m.recorded_at DESC LIMIT 1",
            (list(number_hashes), list(number_hashes.values()), since, until, sender),
        )
        return Answered(**rows[0]) if rows else None


def finals_per_second(pool: ConnectionPool[Any], send_id: UUID) -> list[dict[str, Any]]:
    """The send's messages that reached a final state, per second and state (``at``,
    ``state``, ``n``), oldest first: what a chart of its deliveries over time shows."""
    return _rows(
        pool,
        "SELECT date_trunc('second', final_at) AS at, state, count(*) AS n FROM msg_messages"
        " WHERE send_id = %s AND final_at IS NOT NULL GROUP BY 1, 2 ORDER BY 1",
        (send_id,),
    )


def recent_rate(pool: ConnectionPool[Any], send_id: UUID, now: datetime) -> float:
    """Messages of the send a carrier answered per second over the last minute."""
    rows = _rows(
        pool,
        "SELECT count(*) AS n FROM msg_messages WHERE send_id = %s AND submitted_at > %s",
        (send_id, now - timedelta(minutes=1)),
    )
    return int(rows[0]["n"]) / 60.0


def messages_of_send(
    pool: ConnectionPool[Any], send_id: UUID, state: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    return _rows(
        pool,
        f"SELECT {MESSAGE_COLUMNS} FROM msg_messages WHERE send_id = %(s)s"  # noqa: S608
        " AND (%(state)s::text IS NULL OR state = %(state)s) AND idx > %(after)s"
        " ORDER BY idx LIMIT %(limit)s",
        {"s": send_id, "state": state, "after": after, "limit": limit},
    )


def search(
    pool: ConnectionPool[Any],
    account_id: UUID | None,
    number_hash: str | None,
    start: datetime | None,
    end: datetime | None,
    state: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    return _rows(
        pool,
        f"SELECT {MESSAGE_COLUMNS} FROM msg_messages WHERE"  # noqa: S608 - constant columns
        " (%(a)s::uuid IS NULL OR account_id = %(a)s)"
        " AND (%(h)s::text IS NULL OR number_hash = %(h)s)"
        " AND (%(start)s::timestamptz IS NULL OR recorded_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR recorded_at < %(end)s)"
        " AND (%(state)s::text IS NULL OR state = %(state)s)"
        " AND (%(at)s::timestamptz IS NULL OR (recorded_at, message_id) < (%(at)s, %(mid)s))"
        " ORDER BY recorded_at DESC, message_id DESC LIMIT %(limit)s",
        {
            "a": account_id,
            "h": number_hash,
            "start": start,
            "end": end,
            "state": state,
            "at": after[0] if after else None,
            "mid": after[1] if after else None,
            "limit": limit,
        },
    )


def message(pool: ConnectionPool[Any], message_id: UUID) -> dict[str, Any] | None:
    query = f"SELECT {MESSAGE_COLUMNS} FROM msg_messages WHERE message_id = %s"  # noqa: S608
    rows = _rows(pool, query, (message_id,))
    return rows[0] if rows else None


def projected_up_to(pool: ConnectionPool[Any], application: str) -> int:
    """The last notification of ``application`` the messaging read models have applied."""
    with pool.connection() as conn:
        return position(conn, MessagingProjection.name, application)


def unmatched_receipts(
    pool: ConnectionPool[Any],
    *,
    number_hash: str | None,
    carrier_id: str | None,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Receipts that never matched a submitted message, oldest first (keyset paging)."""
    return _rows(
        pool,
        "SELECT * FROM msg_unmatched_receipts"
        " WHERE (%(h)s::text IS NULL OR number_hash = %(h)s)"
        " AND (%(c)s::text IS NULL OR carrier_id = %(c)s)"
        " AND (%(start)s::timestamptz IS NULL OR received_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR received_at < %(end)s)"
        " AND (%(at)s::timestamptz IS NULL OR (received_at, receipt_id) > (%(at)s, %(rid)s::uuid))"
        " ORDER BY received_at, receipt_id LIMIT %(limit)s",
        {
            "h": number_hash,
            "c": carrier_id,
            "start": start,
            "end": end,
            "at": after[0] if after else None,
            "rid": after[1] if after else None,
            "limit": limit,
        },
    )


def expired_sends_not_completed(
    pool: ConnectionPool[Any], now: datetime, limit: int = 500
) -> list[UUID]:
    """Reservations that expired and closed while their send was never completed or ended (a
    sweeper that died between the two): the sweeper finishes them."""
    rows = _rows(
        pool,
        "SELECT r.reservation_id FROM msg_sends s JOIN ledger_reservations r USING (send_id)"
        " WHERE s.state IN ('awaiting_review', 'recorded')"
        " AND r.closed AND r.expires_at <= %s LIMIT %s",
        (now, limit),
    )
    return [row["reservation_id"] for row in rows]


def history_ids(pool: ConnectionPool[Any], message_id: UUID) -> list[int]:
    rows = _rows(pool, "SELECT history FROM msg_messages WHERE message_id = %s", (message_id,))
    return sorted(int(n) for row in rows for n in row["history"])


def open_messages(
    pool: ConnectionPool[Any],
    *,
    send_id: UUID | None,
    account_id: UUID | None,
    older_than: datetime,
    limit: int,
    states: tuple[str, ...] = ("pending", "buffered", "unconfirmed"),
) -> list[dict[str, Any]]:
    """Messages a carrier accepted without a final report yet (for query_sm and validity)."""
    return _rows(
        pool,
        "SELECT m.message_id, m.send_id, m.account_id, m.route, m.carrier_ids, m.recorded_at,"
        " s.sender FROM msg_messages m JOIN msg_sends s USING (send_id)"
        " WHERE m.state = ANY(%(states)s)"
        " AND (%(s)s::uuid IS NULL OR m.send_id = %(s)s)"
        " AND (%(a)s::uuid IS NULL OR m.account_id = %(a)s)"
        " AND m.recorded_at <= %(older)s ORDER BY m.recorded_at LIMIT %(limit)s",
        {
            "s": send_id,
            "a": account_id,
            "older": older_than,
            "limit": limit,
            "states": list(states),
        },
    )


def month_parts(pool: ConnectionPool[Any], account_id: UUID, since: datetime) -> int:
    rows = _rows(
        pool,
        "SELECT COALESCE(sum(parts), 0) AS n FROM msg_messages WHERE account_id = %s"
        " AND recorded_at >= %s AND state NOT IN ('rejected', 'cancelled')",
        (account_id, since),
    )
    return int(rows[0]["n"])


def month_start(now: datetime) -> datetime:
    """The start of ``now``'s calendar month in Germany (volume tiers count per month)."""
    local = now.astimezone(BERLIN)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ReadModelMonthVolume:
    """``services.acceptance.MonthVolume`` on ``msg_messages``."""

    pool: ConnectionPool[Any]

    def __call__(self, account_id: UUID, now: datetime) -> int:
        return month_parts(self.pool, account_id, month_start(now))


class ReadModelDueSends:
    """``services.expansion.DueSends`` on ``msg_sends``."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def due_sends(self, now: datetime, limit: int) -> list[UUID]:
        rows = _rows(
            self.pool,
            "SELECT send_id FROM msg_sends WHERE state IN ('scheduled', 'sending')"
            " AND (schedule_at IS NULL OR schedule_at <= %s) ORDER BY created_at LIMIT %s",
            (now, limit),
        )
        return [row["send_id"] for row in rows]


class SendsActedOnByHand:
    """The account's sends held for review or cancelled, oldest first, from the read side
    (``services.account_history.SendsActedOn``)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def acted_on(self, account_id: UUID) -> list[UUID]:
        rows = _rows(
            self.pool,
            "SELECT send_id FROM msg_sends WHERE account_id = %s"
            " AND (review_required OR state = 'cancelled') ORDER BY created_at",
            (account_id,),
        )
        return [row["send_id"] for row in rows]


def awaiting_review(pool: ConnectionPool[Any], limit: int = 100) -> list[dict[str, Any]]:
    """Sends held above their account's review threshold, oldest first (the review queue)."""
    return _rows(
        pool,
        "SELECT * FROM msg_sends WHERE state = 'awaiting_review' ORDER BY created_at LIMIT %s",
        (limit,),
    )
