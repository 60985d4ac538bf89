"""Worker processes as they report themselves: one row per process in ``worker_processes``.

A worker process writes its row when it starts (pid, no ready time), sets its ready time once
it is ready (``workers.runtime.Readiness``), beats every ``BEAT_EVERY`` seconds, and marks the
row stopped when it stops cleanly. ``kontor up`` writes the rows it expects before it starts the
workers (``expect``), so a worker that never reported is seen too, and waits for each to be
ready (same host, same pid) before it says the platform is up. ``/ready`` and the API's metrics
read the rows: a row whose last beat is older than ``STALE_AFTER`` belongs to a process that
hangs or died.

Rows are keyed by host and process name (``relay-tx``, ``carrier-2``: the name ``kontor up``
gives the process, which also names its database sessions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS worker_processes (
    host text NOT NULL,
    name text NOT NULL,
    worker text,
    pid integer,
    expected boolean NOT NULL DEFAULT false,
    started_at timestamptz,
    ready_at timestamptz,
    beat_at timestamptz,
    stopped_at timestamptz,
    PRIMARY KEY (host, name)
)
"""

BEAT_EVERY = 5.0
"""Seconds between a worker's heartbeats."""
STALE_AFTER = 20.0
"""Seconds without a heartbeat after which a worker counts as stale (hung, or gone)."""
FORGET_AFTER = timedelta(days=1)
"""Rows of processes nobody expects (started by hand) that have been silent this long go."""

COLUMNS = "host, name, worker, pid, expected, started_at, ready_at, beat_at, stopped_at, now()"


@dataclass(frozen=True)
class WorkerProcess:
    host: str
    name: str
    worker: str | None
    pid: int | None
    expected: bool
    started_at: datetime | None
    ready_at: datetime | None
    beat_at: datetime | None
    stopped_at: datetime | None
    now: datetime
    """The database's time when the row was read (beats are in its time too)."""

    @property
    def silent_for(self) -> float | None:
        """Seconds since the last heartbeat (None: never beat)."""
        return None if self.beat_at is None else (self.now - self.beat_at).total_seconds()

    @property
    def state(self) -> str:
        """``ready``, ``starting`` (beating, not ready yet), ``stale`` (silent for more than
        ``STALE_AFTER``), ``stopped`` (stopped cleanly) or ``not reported`` (expected by
        ``kontor up``, never heard of)."""
        if self.stopped_at is not None and self.beat_at is None:
            return "stopped"
        silent = self.silent_for
        if silent is None:
            return "not reported"
        if silent > STALE_AFTER:
            return "stale"
        return "ready" if self.ready_at is not None else "starting"


def setup_heartbeats(conn: psycopg.Connection[Any]) -> None:
    ensure_schema(conn, SCHEMA)


def expect(conn: psycopg.Connection[Any], host: str, names: list[str]) -> None:
    """``kontor up``: the worker processes this host is about to run (forgetting the rows of
    an earlier run on it)."""
    with conn.transaction():
        conn.execute("DELETE FROM worker_processes WHERE host = %s", (host,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO worker_processes (host, name, expected) VALUES (%s, %s, true)",
                [(host, name) for name in names],
            )


def beat(
    conn: psycopg.Connection[Any],
    *,
    host: str,
    name: str,
    worker: str,
    pid: int,
    started_at: datetime,
    ready_at: datetime | None,
) -> None:
    """A worker's heartbeat: its whole row as it knows it, so a row deleted meanwhile (a new
    ``kontor up``) comes back."""
    conn.execute(
        "INSERT INTO worker_processes (host, name, worker, pid, started_at, ready_at, beat_at)"
        " VALUES (%(host)s, %(name)s, %(worker)s, %(pid)s, %(started)s, %(ready)s, now())"
        " ON CONFLICT (host, name) DO UPDATE SET worker = EXCLUDED.worker, pid = EXCLUDED.pid,"
        " started_at = EXCLUDED.started_at, ready_at = EXCLUDED.ready_at, beat_at = now(),"
        " stopped_at = NULL",
        {
            "host": host,
            "name": name,
            "worker": worker,
            "pid": pid,
            "started": started_at,
            "ready": ready_at,
        },
    )


def forget_silent(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "DELETE FROM worker_processes WHERE NOT expected"
        " AND COALESCE(beat_at, stopped_at, started_at, now()) < now() - %s",
        (FORGET_AFTER,),
    )


def stopped(conn: psycopg.Connection[Any], *, host: str, name: str, pid: int) -> None:
    conn.execute(
        "UPDATE worker_processes SET ready_at = NULL, beat_at = NULL, stopped_at = now()"
        " WHERE host = %s AND name = %s AND pid = %s",
        (host, name, pid),
    )


SELECT = f"SELECT {COLUMNS} FROM worker_processes ORDER BY host, name"  # noqa: S608 - constant


def processes(conn: psycopg.Connection[Any]) -> list[WorkerProcess]:
    row = conn.execute("SELECT to_regclass('worker_processes') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return []
    return [WorkerProcess(*r) for r in conn.execute(SELECT).fetchall()]


async def processes_async(conn: psycopg.AsyncConnection[Any]) -> list[WorkerProcess]:
    cur = await conn.execute("SELECT to_regclass('worker_processes') IS NOT NULL")
    row = await cur.fetchone()
    if not (row and row[0]):
        return []
    cur = await conn.execute(SELECT)
    return [WorkerProcess(*r) for r in await cur.fetchall()]
