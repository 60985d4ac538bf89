"""The data-key table in PostgreSQL (see adapters/crypto/keyring.py for what the keys protect)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id uuid PRIMARY KEY,
    owner_id uuid,
    wrapped bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS data_keys_owner ON data_keys (owner_id);
"""


class PostgresKeyStore:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool
        with pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def load(self, key_id: UUID) -> bytes | None:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT wrapped FROM data_keys WHERE key_id = %s", (key_id,)
            ).fetchone()
        return bytes(row[0]) if row else None

    def insert(self, key_id: UUID, owner: UUID | None, wrapped: bytes) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO data_keys (key_id, owner_id, wrapped) VALUES (%s, %s, %s)"
                " ON CONFLICT (key_id) DO NOTHING",
                (key_id, owner, wrapped),
            )

    def load_many(self, key_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT key_id, wrapped FROM data_keys WHERE key_id = ANY(%b)", (list(key_ids),)
            ).fetchall()
        return {key_id: bytes(wrapped) for key_id, wrapped in rows}

    def insert_returning(
        self, keys: Sequence[tuple[UUID, UUID | None, bytes]]
    ) -> dict[UUID, bytes]:
        # The inserted rows come from RETURNING; the ones that were there before from the
        # statement's snapshot (which does not see its own inserts). A row another transaction
        # commits while this one waits on it is in neither: the caller reads it after.
        with self._pool.connection() as conn:
            rows = conn.execute(
                "WITH wanted AS (SELECT * FROM unnest(%b::uuid[], %b::uuid[], %b::bytea[])"
                " AS w(key_id, owner_id, wrapped)),"
                " inserted AS (INSERT INTO data_keys (key_id, owner_id, wrapped)"
                " SELECT key_id, owner_id, wrapped FROM wanted"
                " ON CONFLICT (key_id) DO NOTHING RETURNING key_id, wrapped)"
                " SELECT key_id, wrapped FROM inserted"
                " UNION ALL SELECT d.key_id, d.wrapped FROM data_keys d JOIN wanted USING (key_id)",
                ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
            ).fetchall()
        return {key_id: bytes(wrapped) for key_id, wrapped in rows}

    def delete(self, key_id: UUID) -> bool:
        with self._pool.connection() as conn:
            cur = conn.execute("DELETE FROM data_keys WHERE key_id = %s", (key_id,))
            return bool(cur.rowcount > 0)

    def delete_owned_by(self, owner: UUID) -> int:
        with self._pool.connection() as conn:
            cur = conn.execute(
                "DELETE FROM data_keys WHERE owner_id = %s OR key_id = %s", (owner, owner)
            )
            return int(cur.rowcount)
