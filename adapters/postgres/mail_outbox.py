"""Mails waiting to be sent, in PostgreSQL: the request that wants a mail sent stores it here
and answers; the mailer worker (``workers.mailer``) sends what is due and deletes it, so a
mail's content (its link is a secret) stays only until it went out. A mail the SMTP server
refused or could not take now waits ``RETRY_AFTER`` times its attempts, and is dropped after
``MAX_ATTEMPTS`` (the refusal is logged, without the mail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from adapters.mail.letters import Mail
from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS mail_outbox (
    mail bigserial PRIMARY KEY,
    to_address text NOT NULL,
    subject text NOT NULL,
    body_text text NOT NULL,
    body_html text NOT NULL,
    due_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (due_at);
"""
RETRY_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 20


@dataclass(frozen=True)
class Queued:
    id: int
    mail: Mail
    attempts: int


def queue_mails(conn: psycopg.Connection[Any], mails: Sequence[Mail], now: datetime) -> None:
    """Queue mails on ``conn``, in the caller's transaction (a follower's)."""
    if not mails:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO mail_outbox (to_address, subject, body_text, body_html, due_at)"
            " VALUES (%s, %s, %s, %s, %s)",
            [(m.to, m.subject, m.text, m.html, now) for m in mails],
        )


class PostgresMailOutbox:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def setup(self) -> None:
        with self.pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def enqueue(self, mail: Mail, now: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO mail_outbox (to_address, subject, body_text, body_html, due_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (mail.to, mail.subject, mail.text, mail.html, now),
            )

    def due(self, now: datetime, limit: int = 50) -> list[Queued]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT mail, to_address, subject, body_text, body_html, attempts"
                " FROM mail_outbox WHERE due_at <= %s ORDER BY due_at LIMIT %s",
                (now, limit),
            ).fetchall()
        return [Queued(r[0], Mail(r[1], r[2], r[3], r[4]), r[5]) for r in rows]

    def sent(self, mail_id: int) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM mail_outbox WHERE mail = %s", (mail_id,))

    def failed(self, queued: Queued, now: datetime) -> bool:
        """Note a failed attempt; False when the mail was given up (deleted)."""
        with self.pool.connection() as conn:
            if queued.attempts + 1 >= MAX_ATTEMPTS:
                conn.execute("DELETE FROM mail_outbox WHERE mail = %s", (queued.id,))
                return False
            conn.execute(
                "UPDATE mail_outbox SET attempts = attempts + 1, due_at = %s WHERE mail = %s",
                (now + RETRY_AFTER * (queued.attempts + 1), queued.id),
            )
            return True
