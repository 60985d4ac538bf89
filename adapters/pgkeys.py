"""The data-key table in PostgreSQL (see adapters/keyring.py for what the keys protect)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.pgschema import ensure_schema

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
                "SELECT key_id, wrapped FROM data_keys WHERE key_id = ANY(%s)", (list(key_ids),)
            ).fetchall()
        return {key_id: bytes(wrapped) for key_id, wrapped in rows}

    def insert_many(self, keys: Sequence[tuple[UUID, UUID | None, bytes]]) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO data_keys (key_id, owner_id, wrapped)"
                " SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::bytea[])"
                " ON CONFLICT (key_id) DO NOTHING",
                ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]),
            )

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
