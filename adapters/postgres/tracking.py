"""Positions in a notification log: how far a follower (a projection, the relay, a repair) has
applied an application's events, one row per follower and application in
``projection_tracking``. A projection writes its row in the transaction of its view rows."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema

TRACKING_SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_tracking (
    projection text NOT NULL,
    application text NOT NULL,
    notification_id bigint NOT NULL,
    PRIMARY KEY (projection, application)
)
"""


def setup_tracking(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        ensure_schema(conn, TRACKING_SCHEMA)


def position(conn: psycopg.Connection[Any], projection: str, application: str) -> int:
    row = conn.execute(
        "SELECT notification_id FROM projection_tracking"
        " WHERE projection = %s AND application = %s",
        (projection, application),
    ).fetchone()
    return int(row[0]) if row else 0


def save_position(
    conn: psycopg.Connection[Any], projection: str, application: str, notification_id: int
) -> None:
    """Move a follower's position forward (never back: two followers may race)."""
    conn.execute(
        "INSERT INTO projection_tracking VALUES (%s, %s, %s) ON CONFLICT (projection, application)"
        " DO UPDATE SET notification_id = GREATEST(projection_tracking.notification_id,"
        " EXCLUDED.notification_id)",
        (projection, application, notification_id),
    )
