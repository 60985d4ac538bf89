"""The read side and the workers as the API reports them (``/ready``, ``/metrics``): read from
PostgreSQL, since the worker processes have no HTTP server of their own.

``problems`` are what makes the platform *degraded*: a projection held at an event it cannot
apply, a worker that ``kontor up`` expects and that is not ready (never reported, starting,
stale, stopped), or a worker started by hand that went silent. A projection that is merely
behind is listed, not a problem: under load the read models are a moment late by design.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg_pool import ConnectionPool

from adapters.postgres.heartbeats import WorkerProcess, processes
from projections.read_side import FollowerStatus, followers


@dataclass(frozen=True)
class ReadSide:
    followers: list[FollowerStatus] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)
    unreadable: str | None = None
    """Why the tables could not be read (then nothing else is known)."""

    @property
    def problems(self) -> list[str]:
        found = [] if self.unreadable is None else [f"read side not readable: {self.unreadable}"]
        for f in self.followers:
            if f.failure is not None:
                found.append(
                    f"projection {f.name} of {f.application} cannot apply {f.failure.event}:"
                    f" {f.failure.error} ({f.failure.attempts} attempts since"
                    f" {f.failure.first_seen.isoformat(timespec='seconds')})"
                )
        for w in self.workers:
            state = w.state
            if (w.expected and state != "ready") or (
                not w.expected and state in ("stale", "starting")
            ):
                silent = w.silent_for
                note = f" (silent for {silent:.0f} s)" if state == "stale" and silent else ""
                found.append(f"worker {w.name} on {w.host} is {state}{note}")
        return found

    @property
    def behind(self) -> list[str]:
        return [f"{f.name}@{f.application}" for f in self.followers if f.behind]


def read_side(pool: ConnectionPool[Any], timeout: float) -> ReadSide:
    try:
        with pool.connection(timeout=timeout) as conn, conn.transaction():
            conn.execute(f"SET LOCAL statement_timeout = {max(1, int(timeout * 1000))}")
            return ReadSide(followers(conn), processes(conn))
    except Exception as exc:  # noqa: BLE001 - whatever it is, the report says so
        return ReadSide(unreadable=f"{type(exc).__name__}: {str(exc)[:200]}")
