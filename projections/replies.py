"""The replies' read model: each reply (MO) with the account and message it answers, by which
rule, whether it was a STOP, and whether the account has read it. Written by the replies
follower (``workers.replies``) in the transaction that moves its position, so a reply is
shown once, whatever crashed; the text and the handset's number stay sealed in Messaging's
``ReplyBatch`` event (``notification_id``) and are opened only to be shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound_replies (
    reply_id uuid PRIMARY KEY,
    notification_id bigint NOT NULL,
    route text NOT NULL,
    sender_hash text NOT NULL,
    recipient text NOT NULL,
    account_id uuid,
    message_id uuid,
    send_id uuid,
    rule text NOT NULL,
    stop boolean NOT NULL,
    received_at timestamptz NOT NULL,
    read_at timestamptz
);
ALTER TABLE inbound_replies ADD COLUMN IF NOT EXISTS incomplete boolean NOT NULL DEFAULT false;
CREATE INDEX IF NOT EXISTS inbound_replies_account ON inbound_replies (account_id, received_at);
CREATE INDEX IF NOT EXISTS inbound_replies_message ON inbound_replies (message_id);
CREATE INDEX IF NOT EXISTS inbound_replies_send ON inbound_replies (send_id, received_at);
"""
COLUMNS = (
    "reply_id, notification_id, route, sender_hash, recipient, account_id, message_id, send_id,"
    " rule, stop, received_at, read_at, incomplete"
)


def setup(conn: psycopg.Connection[Any]) -> None:
    ensure_schema(conn, SCHEMA)


def save(conn: psycopg.Connection[Any], row: dict[str, Any]) -> None:
    """Record a reply's row (again: nothing changes)."""
    conn.execute(
        "INSERT INTO inbound_replies (reply_id, notification_id, route, sender_hash, recipient,"
        " account_id, message_id, send_id, rule, stop, received_at, incomplete) VALUES"
        " (%(reply_id)s, %(notification_id)s, %(route)s, %(sender_hash)s, %(recipient)s,"
        " %(account_id)s, %(message_id)s, %(send_id)s, %(rule)s, %(stop)s, %(received_at)s,"
        " %(incomplete)s)"
        " ON CONFLICT (reply_id) DO NOTHING",
        row,
    )


def _rows(pool: ConnectionPool[Any], query: str, params: Any) -> list[dict[str, Any]]:
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return list(cur.fetchall())


def page(
    pool: ConnectionPool[Any],
    account_id: UUID,
    *,
    send_id: UUID | None = None,
    message_id: UUID | None = None,
    sender_hash: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The account's replies, newest first (keyset paging)."""
    return _rows(
        pool,
        f"SELECT {COLUMNS} FROM inbound_replies WHERE account_id = %(a)s"  # noqa: S608
        " AND (%(s)s::uuid IS NULL OR send_id = %(s)s)"
        " AND (%(m)s::uuid IS NULL OR message_id = %(m)s)"
        " AND (%(h)s::text IS NULL OR sender_hash = %(h)s)"
        " AND (%(start)s::timestamptz IS NULL OR received_at >= %(start)s)"
        " AND (%(end)s::timestamptz IS NULL OR received_at < %(end)s)"
        " AND (%(at)s::timestamptz IS NULL OR (received_at, reply_id) < (%(at)s, %(rid)s::uuid))"
        " ORDER BY received_at DESC, reply_id DESC LIMIT %(limit)s",
        {"a": account_id, "s": send_id, "m": message_id, "h": sender_hash, "start": start,
         "end": end, "at": after[0] if after else None, "rid": after[1] if after else None,
         "limit": limit},
    )  # fmt: skip


def one(pool: ConnectionPool[Any], reply_id: UUID) -> dict[str, Any] | None:
    rows = _rows(
        pool,
        f"SELECT {COLUMNS} FROM inbound_replies WHERE reply_id = %s",  # noqa: S608 - constant
        (reply_id,),
    )
    return rows[0] if rows else None


def of_message(pool: ConnectionPool[Any], message_id: UUID) -> list[dict[str, Any]]:
    """The replies to a message, oldest first."""
    return _rows(
        pool,
        f"SELECT {COLUMNS} FROM inbound_replies WHERE message_id = %s"  # noqa: S608 - constant
        " ORDER BY received_at, reply_id",
        (message_id,),
    )


def unread(pool: ConnectionPool[Any], account_id: UUID) -> int:
    rows = _rows(
        pool,
        "SELECT count(*) AS n FROM inbound_replies WHERE account_id = %s AND read_at IS NULL",
        (account_id,),
    )
    return int(rows[0]["n"])


def mark_read(pool: ConnectionPool[Any], reply_id: UUID, account_id: UUID, at: datetime) -> bool:
    """Mark the account's reply read (once: the first time stays); False if it is none of
    the account's."""
    with pool.connection() as conn:
        done = conn.execute(
            "UPDATE inbound_replies SET read_at = COALESCE(read_at, %s)"
            " WHERE reply_id = %s AND account_id = %s",
            (at, reply_id, account_id),
        )
        return bool(done.rowcount == 1)
