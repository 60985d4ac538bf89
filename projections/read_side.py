"""How far the read side is: every follower of a notification log (projections, settlement, the
relay, repairs: the rows of ``projection_tracking``), its position against its log's head, and
the event it is held at, if any (``projection_failures``).

Read by ``/ready``, the API's metrics and ``kontor projections``. A follower whose position is
below its log's head is *behind*: under load that is normal for a moment (the read models show
states a moment late); held at an event it is *failing*, which an operator has to look at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from projections.failures import Failure, failures


@dataclass(frozen=True)
class FollowerStatus:
    name: str
    application: str
    position: int
    head: int
    """The application's last notification id (0: nothing recorded)."""
    failure: Failure | None = None

    @property
    def behind(self) -> int:
        return max(0, self.head - self.position)

    @property
    def state(self) -> str:
        if self.failure is not None:
            return "failing"
        return "behind" if self.behind else "current"


def log_head(conn: psycopg.Connection[Any], application: str) -> int:
    """The last notification id of an application's log (eventsourcing names its table
    ``<application>_events``); 0 when it has none yet."""
    table = f"{application.lower()}_events"
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    if not (row and row[0]):
        return 0
    head = conn.execute(
        sql.SQL("SELECT max(notification_id) FROM {}").format(sql.Identifier(table))
    ).fetchone()
    return int(head[0]) if head and head[0] is not None else 0


def followers(conn: psycopg.Connection[Any]) -> list[FollowerStatus]:
    """Every follower, ordered by application and name."""
    row = conn.execute("SELECT to_regclass('projection_tracking') IS NOT NULL").fetchone()
    if not (row and row[0]):
        return []
    tracked = conn.execute(
        "SELECT projection, application, notification_id FROM projection_tracking"
        " ORDER BY application, projection"
    ).fetchall()
    failing = {(f.projection, f.application): f for f in failures(conn)}
    heads = {application: log_head(conn, application) for _, application, _ in tracked}
    statuses = []
    for name, application, at in tracked:
        failure = failing.get((name, application))
        if failure is not None and failure.notification_id <= at:
            failure = None  # applied since (by another process), the record not yet cleared
        statuses.append(
            FollowerStatus(str(name), str(application), int(at), heads[application], failure)
        )
    return statuses
