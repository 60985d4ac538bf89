"""Registration slots in PostgreSQL (``services.registration_limit.RegistrationSlots``): one
row per registration a client digest made in the last hour, shared by every API process.

``take`` serialises the takers of one digest with a transaction-scoped advisory lock, so the
count and the insert are one step for them; rows older than a day are deleted as it goes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS registration_slots (
    slot bigserial PRIMARY KEY,
    client text NOT NULL,
    taken_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS registration_slots_client ON registration_slots (client, taken_at);
"""

KEEP = timedelta(days=1)
LOCK_SPACE = 745_211_310
"""First key of the advisory locks (two-int form: this, the digest's hash)."""


class PostgresRegistrationSlots:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def setup(self) -> None:
        with self.pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def take(self, client: str, now: datetime, since: datetime, limit: int) -> int | None:
        with self.pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LOCK_SPACE, client))
            conn.execute(
                "DELETE FROM registration_slots WHERE client = %s AND taken_at < %s",
                (client, now - KEEP),
            )
            row = conn.execute(
                "SELECT count(*) FROM registration_slots WHERE client = %s AND taken_at > %s",
                (client, since),
            ).fetchone()
            if row is not None and row[0] >= limit:
                return None
            inserted = conn.execute(
                "INSERT INTO registration_slots (client, taken_at) VALUES (%s, %s) RETURNING slot",
                (client, now),
            ).fetchone()
            return None if inserted is None else int(inserted[0])

    def oldest(self, client: str, since: datetime) -> datetime | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT min(taken_at) FROM registration_slots WHERE client = %s AND taken_at > %s",
                (client, since),
            ).fetchone()
        return None if row is None else row[0]

    def give_back(self, slot: int) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM registration_slots WHERE slot = %s", (slot,))
