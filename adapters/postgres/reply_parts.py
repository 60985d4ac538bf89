"""The parts of concatenated replies waiting for the rest of their message, in PostgreSQL
(``services.reply_parts.ReplyParts``).

A part's body and the handset's number are personal data: they are stored sealed under the
handset's own key (erasing the person shreds them with the rest of their replies), beside the
handset's lookup hash. A closed part keeps its row, naming the reply it went into, for
``KEEP_CLOSED`` (a part offered again after its message was recorded is then recognised and
not kept as the start of another message), and is deleted after it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.schema import ensure_schema
from domain.messaging.records import Handset, ReplyPart

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbound_reply_parts (
    identity text PRIMARY KEY,
    grp text NOT NULL,
    sequence integer NOT NULL,
    total integer NOT NULL,
    route text NOT NULL,
    number_hash text NOT NULL,
    key_id uuid NOT NULL,
    number bytea NOT NULL,
    recipient text NOT NULL,
    data_coding integer NOT NULL,
    body bytea NOT NULL,
    received_at timestamptz NOT NULL,
    reply_id uuid,
    closed_at timestamptz
);
CREATE INDEX IF NOT EXISTS inbound_reply_parts_open ON inbound_reply_parts (grp)
    WHERE reply_id IS NULL;
CREATE INDEX IF NOT EXISTS inbound_reply_parts_waiting ON inbound_reply_parts (received_at)
    WHERE reply_id IS NULL;
CREATE INDEX IF NOT EXISTS inbound_reply_parts_closed ON inbound_reply_parts (closed_at)
    WHERE reply_id IS NOT NULL;
"""
KEEP_CLOSED = timedelta(days=2)
_COLUMNS = (
    "identity, grp, sequence, total, route, number_hash, key_id, number, recipient,"
    " data_coding, body, received_at"
)


class PostgresReplyParts:
    def __init__(self, pool: ConnectionPool[Any], keys: Keyring) -> None:
        self.pool = pool
        self.keys = keys

    def setup(self) -> None:
        with self.pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def keep(self, parts: Sequence[ReplyPart]) -> None:
        rows = [
            (
                p.identity, p.group, p.sequence, p.total, p.route, p.handset.number_hash,
                p.handset.key_id, self.keys.seal(p.handset.key_id, p.handset.number.encode()),
                p.recipient, p.data_coding, self.keys.seal(p.handset.key_id, p.body),
                p.received_at,
            )
            for p in parts
        ]  # fmt: skip
        with self.pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO inbound_reply_parts ({_COLUMNS}) VALUES"  # noqa: S608 - constant
                " (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (identity) DO NOTHING",
                rows,
            )

    def open_parts(self, groups: Collection[str]) -> list[ReplyPart]:
        return self._select("grp = ANY(%s) AND reply_id IS NULL", (list(groups),))

    def overdue(self, first_before: datetime) -> list[ReplyPart]:
        return self._select(
            "reply_id IS NULL AND grp IN (SELECT grp FROM inbound_reply_parts"
            " WHERE reply_id IS NULL AND received_at < %s)",
            (first_before,),
        )

    def close(self, reply_id: UUID, identities: Collection[str]) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE inbound_reply_parts SET reply_id = %s, closed_at = now()"
                " WHERE identity = ANY(%s) AND reply_id IS NULL",
                (reply_id, list(identities)),
            )

    def forget_closed(self, now: datetime) -> int:
        """Delete the parts closed longer than ``KEEP_CLOSED`` ago; how many."""
        with self.pool.connection() as conn:
            cur = conn.execute(
                "DELETE FROM inbound_reply_parts WHERE reply_id IS NOT NULL AND closed_at < %s",
                (now - KEEP_CLOSED,),
            )
            return int(cur.rowcount)

    def _select(self, where: str, params: tuple[Any, ...]) -> list[ReplyPart]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM inbound_reply_parts WHERE {where}",  # noqa: S608
                params,
            ).fetchall()
        self.keys.prefetch([row[6] for row in rows])
        parts, erased = [], []
        for (identity, group, sequence, total, route, number_hash, key_id, number, recipient,
             data_coding, body, received_at) in rows:  # fmt: skip
            opened_number = self.keys.open(key_id, bytes(number))
            opened_body = self.keys.open(key_id, bytes(body))
            if opened_number is None or opened_body is None:
                erased.append(identity)  # the person was erased meanwhile: nothing is recorded
                continue
            parts.append(ReplyPart(
                identity=identity, group=group, sequence=sequence, total=total, route=route,
                handset=Handset(opened_number.decode(), number_hash, key_id),
                recipient=recipient, data_coding=data_coding, body=opened_body,
                received_at=received_at,
            ))  # fmt: skip
        if erased:
            with self.pool.connection() as conn:
                conn.execute("DELETE FROM inbound_reply_parts WHERE identity = ANY(%s)", (erased,))
        return parts
