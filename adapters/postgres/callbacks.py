"""The webhook outbox in PostgreSQL (``services.callbacks.CallbackOutbox``), and what the API
shows of it.

A callback is queued by the follower that saw its event, in the transaction that moves the
follower's position (``queue``), under an id derived from the event: queued again after a
crash, it is the same row. A body that tells of a person (a reply: its number and text) is
sealed under that person's key, so erasing them shreds a callback not yet sent; the receiver's
answers are kept per attempt (status, latency, the start of the body or the error).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.schema import ensure_schema
from domain.accounts.callbacks import Attempt, DueCallback

SCHEMA = """
CREATE TABLE IF NOT EXISTS callback_deliveries (
    delivery_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    event_type text NOT NULL,
    subject_id uuid NOT NULL,
    url text NOT NULL,
    key_id uuid,
    body bytea NOT NULL,
    created_at timestamptz NOT NULL,
    next_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    state text NOT NULL DEFAULT 'pending',
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS callback_deliveries_due ON callback_deliveries (next_at)
    WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS callback_deliveries_account
    ON callback_deliveries (account_id, created_at);
CREATE TABLE IF NOT EXISTS callback_attempts (
    delivery_id uuid NOT NULL REFERENCES callback_deliveries ON DELETE CASCADE,
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    status integer,
    latency_ms double precision NOT NULL,
    error text,
    response text NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
"""
STATES = ("pending", "delivered", "failed", "dropped")


@dataclass(frozen=True, slots=True)
class Queued:
    delivery_id: UUID
    account_id: UUID
    event_type: str
    subject_id: UUID
    url: str
    body: bytes
    key_id: UUID | None
    """The person's key the body is sealed under (``None``: it names no one)."""
    at: datetime


def setup(conn: psycopg.Connection[Any]) -> None:
    ensure_schema(conn, SCHEMA)


def queue(conn: psycopg.Connection[Any], keys: Keyring, callbacks: Sequence[Queued]) -> None:
    """Queue callbacks on ``conn`` (the follower's transaction); one queued already stays."""
    if not callbacks:
        return
    rows = [
        (c.delivery_id, c.account_id, c.event_type, c.subject_id, c.url, c.key_id,
         keys.seal(c.key_id, c.body) if c.key_id is not None else c.body, c.at, c.at)
        for c in callbacks
    ]  # fmt: skip
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO callback_deliveries (delivery_id, account_id, event_type, subject_id,"
            " url, key_id, body, created_at, next_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (delivery_id) DO NOTHING",
            rows,
        )


class PostgresCallbacks:
    def __init__(self, pool: ConnectionPool[Any], keys: Keyring) -> None:
        self.pool = pool
        self.keys = keys

    def setup(self) -> None:
        with self.pool.connection() as conn:
            setup(conn)

    def due(
        self, now: datetime, limit: int, per_account: int, besides: Collection[UUID]
    ) -> list[DueCallback]:
        if limit <= 0:
            return []
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT delivery_id, account_id, url, key_id, body, attempts, created_at FROM"
                " (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY next_at) AS n"
                "  FROM callback_deliveries WHERE state = 'pending' AND next_at <= %s"
                "  AND delivery_id <> ALL(%s)) AS due"
                " WHERE n <= %s ORDER BY next_at LIMIT %s",
                (now, list(besides), per_account, limit),
            ).fetchall()
        self.keys.prefetch([row[3] for row in rows if row[3] is not None])
        return [
            DueCallback(
                delivery_id=delivery_id, account_id=account_id, url=url,
                body=bytes(body) if key_id is None else self.keys.open(key_id, bytes(body)),
                attempts=attempts, created_at=created_at,
            )
            for delivery_id, account_id, url, key_id, body, attempts, created_at in rows
        ]  # fmt: skip

    def attempted(self, results: Sequence[tuple[UUID, Attempt, datetime | None]]) -> None:
        attempts, updates = [], []
        for delivery_id, attempt, retry in results:
            ok = attempt.status is not None and 200 <= attempt.status < 300
            state = "delivered" if ok else "pending" if retry is not None else "failed"
            attempts.append((delivery_id, attempt.number, attempt.at, attempt.status,
                             attempt.latency_ms, attempt.error, attempt.response))  # fmt: skip
            updates.append((attempt.number, state, retry, state, attempt.at, delivery_id))
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO callback_attempts (delivery_id, attempt, at, status, latency_ms,"
                " error, response) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (delivery_id, attempt) DO NOTHING",
                attempts,
            )
            cur.executemany(
                "UPDATE callback_deliveries SET attempts = %s, state = %s,"
                " next_at = coalesce(%s, next_at),"
                " finished_at = CASE WHEN %s = 'pending' THEN NULL ELSE %s END"
                " WHERE delivery_id = %s",
                updates,
            )

    def dropped(self, delivery_id: UUID, why: str) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE callback_deliveries SET state = 'dropped', finished_at = now()"
                " WHERE delivery_id = %s",
                (delivery_id,),
            )

    def redeliver(self, account_id: UUID, delivery_id: UUID, now: datetime) -> bool:
        """Queue a callback of the account again, now, whatever became of it; False if the
        account has no such callback."""
        with self.pool.connection() as conn:
            cur = conn.execute(
                "UPDATE callback_deliveries SET state = 'pending', next_at = %s,"
                " created_at = %s, finished_at = NULL"
                " WHERE delivery_id = %s AND account_id = %s AND state <> 'dropped'",
                (now, now, delivery_id, account_id),
            )
            return bool(cur.rowcount)

    def page(
        self, account_id: UUID, *, state: str | None, before: datetime | None, limit: int
    ) -> list[dict[str, Any]]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows: list[dict[str, Any]] = cur.execute(
                "SELECT delivery_id, event_type, subject_id, url, state, attempts, created_at,"
                " next_at, finished_at FROM callback_deliveries WHERE account_id = %s"
                " AND (%s::text IS NULL OR state = %s)"
                " AND (%s::timestamptz IS NULL OR created_at < %s)"
                " ORDER BY created_at DESC, delivery_id LIMIT %s",
                (account_id, state, state, before, before, limit),
            ).fetchall()
            return rows

    def one(self, account_id: UUID, delivery_id: UUID) -> dict[str, Any] | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row: dict[str, Any] | None = cur.execute(
                "SELECT delivery_id, event_type, subject_id, url, state, attempts, created_at,"
                " next_at, finished_at FROM callback_deliveries"
                " WHERE account_id = %s AND delivery_id = %s",
                (account_id, delivery_id),
            ).fetchone()
            if row is None:
                return None
            row["attempt_log"] = cur.execute(
                "SELECT attempt, at, status, latency_ms, error, response FROM callback_attempts"
                " WHERE delivery_id = %s ORDER BY attempt",
                (delivery_id,),
            ).fetchall()
            return row
