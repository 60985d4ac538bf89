"""A follower's next batch of a notification log: its position locked for the transaction, the
notifications after it (up to the log's head as it was then), and where the position may move.

The tracking row is locked ``FOR UPDATE`` so that two runners of one projection never
interleave; the second finds the work done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification


@dataclass(frozen=True)
class Batch:
    start: int
    ceiling: int
    """The log's head when the batch was selected."""
    notifications: Sequence[Notification]
    limit: int
    filtered: bool
    """Selected by topic: the follower skips every other event."""

    @property
    def reached(self) -> int:
        """The position after the whole batch. With a topic filter, nothing more up to the
        ceiling means the position may skip every other event up to it (commit order is
        notification order, see eventsourcing)."""
        if self.filtered and len(self.notifications) < self.limit:
            return max(self.ceiling, self.start)
        return self.notifications[-1].id if self.notifications else self.start


def lock_position(conn: psycopg.Connection[Any], follower: str, application: str) -> int:
    row = conn.execute(
        "SELECT notification_id FROM projection_tracking"
        " WHERE projection = %s AND application = %s FOR UPDATE",
        (follower, application),
    ).fetchone()
    return int(row[0]) if row else 0


def select_batch(app: Application[UUID], start: int, limit: int, topics: Sequence[str]) -> Batch:
    ceiling = app.recorder.max_notification_id() or 0
    notifications = app.recorder.select_notifications(
        start=start, limit=limit, stop=ceiling, topics=topics, inclusive_of_start=False
    )
    return Batch(start, ceiling, notifications, limit, bool(topics))


def move_position(
    conn: psycopg.Connection[Any], follower: str, application: str, start: int, reached: int
) -> None:
    if reached > start:
        conn.execute(
            "UPDATE projection_tracking SET notification_id = %s"
            " WHERE projection = %s AND application = %s",
            (reached, follower, application),
        )
