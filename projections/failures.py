"""Events a projection could not apply: the rules for finding one and retrying it, and its record.

A batch that fails is applied again one event at a time (``first_failure``), so that what comes
before the culprit is applied and the culprit is named. The projection then holds there: its
position never passes an event that has not applied (no event is ever skipped), and it tries that
event again after ``Backoff.delay(attempts)`` (1 s doubling to 60 s), or at once when an operator
asks (``request_retry``, ``kontor projections retry``). Its other projections, and the runners of
other applications, go on meanwhile.

``projection_failures`` holds one row per held projection: which event (notification id, topic,
originator), the error, when it was first and last seen, how many attempts, when the next is due.
The API reads it for ``/ready`` and ``/metrics``; the row goes in the transaction that finally
applies the event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import psycopg

from adapters.postgres.schema import ensure_schema

SCHEMA = """
CREATE TABLE IF NOT EXISTS projection_failures (
    projection text NOT NULL,
    application text NOT NULL,
    notification_id bigint NOT NULL,
    topic text NOT NULL,
    originator_id uuid,
    originator_version integer,
    error text NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    attempts integer NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    PRIMARY KEY (projection, application)
)
"""

ERROR_TEXT_MAX = 1000
"""Characters of an error message kept (read models hold ids and keyed hashes, never personal
data in plain text, so a database error quoting a row quotes nothing secret)."""


@dataclass(frozen=True)
class Backoff:
    """Seconds to wait before the next attempt at an event that failed ``attempts`` times."""

    first: float = 1.0
    cap: float = 60.0

    def delay(self, attempts: int) -> float:
        doublings = max(0, min(attempts - 1, 32))
        return min(self.cap, self.first * float(1 << doublings))


T = TypeVar("T")


def first_failure(
    items: Iterable[T], apply: Callable[[T], None]
) -> tuple[int, T, Exception] | None:
    """Apply ``items`` in order until one raises: ``(how many applied, the culprit, its
    error)``, or None when all applied. (The runner wraps each in a savepoint, so that what
    the culprit did is undone and what came before it stays.)"""
    for applied, item in enumerate(items):
        try:
            apply(item)
        except Exception as exc:  # noqa: BLE001 - any error names the event; the caller decides
            return applied, item, exc
    return None


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:ERROR_TEXT_MAX]


@dataclass(frozen=True)
class Failure:
    projection: str
    application: str
    notification_id: int
    topic: str
    originator_id: UUID | None
    originator_version: int | None
    error: str
    first_seen: datetime
    last_seen: datetime
    attempts: int
    next_attempt_at: datetime

    def log_fields(self) -> dict[str, object]:
        """The failure as a log line's fields (JSON: the event's notification id first)."""
        return {
            "notification_id": self.notification_id,
            "projection": self.projection,
            "application": self.application,
            "topic": self.topic,
            "originator_id": str(self.originator_id) if self.originator_id else None,
            "originator_version": self.originator_version,
            "attempts": self.attempts,
            "error": self.error,
        }

    @property
    def event(self) -> str:
        """The event in a line, as logs, ``/ready`` and ``kontor projections`` name it."""
        origin = (
            f" of {self.originator_id} v{self.originator_version}" if self.originator_id else ""
        )
        return f"notification {self.notification_id} ({self.topic}{origin})"


class ProjectionHeldError(RuntimeError):
    """``catch_up`` cannot finish: a projection is held at an event it cannot apply."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        super().__init__(
            "; ".join(f"{f.projection} is held at {f.event}: {f.error}" for f in self.failures)
        )


COLUMNS = (
    "projection, application, notification_id, topic, originator_id, originator_version, error,"
    " first_seen, last_seen, attempts, next_attempt_at"
)


def setup_failures(conn: psycopg.Connection[Any]) -> None:
    ensure_schema(conn, SCHEMA)


def record_failure(
    conn: psycopg.Connection[Any],
    projection: str,
    application: str,
    notification: Any,
    exc: BaseException,
    backoff: Backoff,
) -> Failure:
    """Count an attempt at ``notification`` that failed with ``exc`` (a first one, or one more
    at the same event) and set when the next is due."""
    row = conn.execute(
        "SELECT notification_id, attempts FROM projection_failures"
        " WHERE projection = %s AND application = %s",
        (projection, application),
    ).fetchone()
    attempts = int(row[1]) + 1 if row is not None and row[0] == notification.id else 1
    delay = backoff.delay(attempts)
    recorded = conn.execute(
        "INSERT INTO projection_failures VALUES (%(projection)s, %(application)s, %(id)s,"
        " %(topic)s, %(originator)s, %(version)s, %(error)s, now(), now(), %(attempts)s,"
        " now() + make_interval(secs => %(delay)s))"
        " ON CONFLICT (projection, application) DO UPDATE SET"
        " notification_id = EXCLUDED.notification_id, topic = EXCLUDED.topic,"
        " originator_id = EXCLUDED.originator_id,"
        " originator_version = EXCLUDED.originator_version, error = EXCLUDED.error,"
        " first_seen = CASE WHEN projection_failures.notification_id = EXCLUDED.notification_id"
        "  THEN projection_failures.first_seen ELSE EXCLUDED.first_seen END,"
        " last_seen = EXCLUDED.last_seen, attempts = EXCLUDED.attempts,"
        " next_attempt_at = EXCLUDED.next_attempt_at"
        " RETURNING projection, application, notification_id, topic, originator_id,"
        " originator_version, error, first_seen, last_seen, attempts, next_attempt_at",
        {
            "projection": projection,
            "application": application,
            "id": notification.id,
            "topic": notification.topic,
            "originator": notification.originator_id,
            "version": notification.originator_version,
            "error": error_text(exc),
            "attempts": attempts,
            "delay": delay,
        },
    ).fetchone()
    if recorded is None:  # pragma: no cover - an upsert's RETURNING always has its row
        raise RuntimeError("projection_failures: the upsert returned nothing")
    return Failure(*recorded)


def clear_failure(conn: psycopg.Connection[Any], projection: str, application: str) -> None:
    conn.execute(
        "DELETE FROM projection_failures WHERE projection = %s AND application = %s",
        (projection, application),
    )


def retry_due(conn: psycopg.Connection[Any], projection: str, application: str) -> bool:
    """Whether a held projection should try its event again now (also when its record is gone:
    another runner applied it, and this one must catch up)."""
    row = conn.execute(
        "SELECT next_attempt_at <= now() FROM projection_failures"
        " WHERE projection = %s AND application = %s",
        (projection, application),
    ).fetchone()
    return row is None or bool(row[0])


def request_retry(conn: psycopg.Connection[Any], projection: str | None = None) -> list[Failure]:
    """Make the held projections (all, or the one named) try their event again at their next
    round instead of waiting out their back-off; returns the failures concerned."""
    rows = conn.execute(
        "UPDATE projection_failures SET next_attempt_at = now()"
        " WHERE %(name)s::text IS NULL OR projection = %(name)s"
        " RETURNING projection, application, notification_id, topic, originator_id,"
        " originator_version, error, first_seen, last_seen, attempts, next_attempt_at",
        {"name": projection},
    ).fetchall()
    return [Failure(*row) for row in rows]


def failures(conn: psycopg.Connection[Any]) -> list[Failure]:
    if not _exists(conn):
        return []
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM projection_failures ORDER BY projection, application"  # noqa: S608
    ).fetchall()
    return [Failure(*row) for row in rows]


def held(conn: psycopg.Connection[Any], application: str) -> dict[str, int]:
    """The projections of ``application`` held at an event, and at which notification. A
    record the projection's position has passed (another process, with fixed code, applied the
    event while this one was away) is deleted here."""
    conn.execute(
        "DELETE FROM projection_failures f USING projection_tracking t"
        " WHERE f.application = %s AND t.projection = f.projection"
        " AND t.application = f.application AND t.notification_id >= f.notification_id",
        (application,),
    )
    rows = conn.execute(
        "SELECT projection, notification_id FROM projection_failures WHERE application = %s",
        (application,),
    ).fetchall()
    return {str(name): int(notification_id) for name, notification_id in rows}


def _exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('projection_failures') IS NOT NULL").fetchone()
    return bool(row and row[0])
