"""Creating tables from several processes at once, safely.

PostgreSQL answers concurrent ``CREATE ... IF NOT EXISTS`` of the same object with "tuple
concurrently updated" (or a unique violation in its catalog). Every process that creates
tables at start takes this advisory lock first, so they take turns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

SCHEMA_LOCK = 7_452_113_001


@contextlib.contextmanager
def schema_lock(pool: ConnectionPool[Any] | None) -> Iterator[None]:
    if pool is None:
        yield
        return
    with pool.connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def ensure_schema(conn: psycopg.Connection[Any], ddl: str) -> None:
    """Run DDL on ``conn`` under the schema lock (released when the statement is done)."""
    conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
    try:
        conn.execute(ddl)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
