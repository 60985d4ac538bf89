"""Projection runner: follows an application's notification log into PostgreSQL read models.

Each projection writes its view rows and its tracking position in one transaction, so a crash
never loses or repeats an event's effect. Events are taken in batches (up to ``batch_size``
notifications a transaction): eventsourcing's own runner commits once per event, which caps a
read model near a thousand events a second; batching lets dashboards keep up with the send
path. The tracking row is locked for the batch, so two runners of one projection never
interleave; the second simply finds the work done.

A projection implements ``setup`` (create its tables) and ``process`` (apply a batch inside the
given transaction); ``singledispatchmethod`` handlers per event type are the usual shape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from psycopg_pool import ConnectionPool

from adapters.postgres.tracking import position, setup_tracking

log = logging.getLogger(__name__)
__all__ = ["Projection", "ProjectionRunner", "position", "setup_tracking"]


class Projection(Protocol):
    name: str

    def setup(self, conn: psycopg.Connection[Any]) -> None: ...

    def process(self, conn: psycopg.Connection[Any], events: Sequence[tuple[int, Any]]) -> None: ...


class ProjectionRunner:
    def __init__(
        self,
        app: Application[UUID],
        projections: Sequence[Projection],
        pool: ConnectionPool[Any],
        *,
        batch_size: int = 500,
        topics: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.projections = list(projections)
        self.pool = pool
        self.batch_size = batch_size
        self.topics = list(topics)
        setup_tracking(pool)
        with pool.connection() as conn:
            for projection in self.projections:
                projection.setup(conn)
                conn.execute(
                    "INSERT INTO projection_tracking VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    (projection.name, app.name),
                )

    def run_once(self) -> int:
        """Apply the next batch to every projection; returns how many events were applied."""
        applied = 0
        for projection in self.projections:
            applied += self._advance(projection)
        return applied

    def _advance(self, projection: Projection) -> int:
        with self.pool.connection() as conn, conn.transaction():
            row = conn.execute(
                "SELECT notification_id FROM projection_tracking"
                " WHERE projection = %s AND application = %s FOR UPDATE",
                (projection.name, self.app.name),
            ).fetchone()
            start = int(row[0]) if row else 0
            ceiling = self.app.recorder.max_notification_id() or 0
            notifications = self.app.recorder.select_notifications(
                start=start,
                limit=self.batch_size,
                stop=ceiling,
                topics=self.topics,
                inclusive_of_start=False,
            )
            # With a topic filter, nothing more up to the ceiling means the position may skip
            # every other event up to it (commit order is notification order, see eventsourcing).
            if self.topics and len(notifications) < self.batch_size:
                reached = max(ceiling, start)
            else:
                reached = notifications[-1].id if notifications else start
            if notifications:
                decoder = getattr(projection, "decode", None) or self.decode
                decoded = ((n.id, decoder(n)) for n in notifications)
                projection.process(conn, [(i, e) for i, e in decoded if e is not None])
            if reached > start:
                conn.execute(
                    "UPDATE projection_tracking SET notification_id = %s"
                    " WHERE projection = %s AND application = %s",
                    (reached, projection.name, self.app.name),
                )
            return len(notifications)

    def decode(self, notification: Notification) -> Any:
        return self.app.mapper.to_domain_event(notification)

    def catch_up(self, timeout: float = 30.0) -> None:
        """Run until every projection has applied everything recorded so far."""
        target = self.app.recorder.max_notification_id() or 0
        deadline = time.monotonic() + timeout
        while self.lowest_position() < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"projections of {self.app.name} did not reach {target}")
            self.run_once()

    def lowest_position(self) -> int:
        with self.pool.connection() as conn:
            return min(position(conn, p.name, self.app.name) for p in self.projections)

    def run_forever(self, stop: threading.Event, idle_wait: float = 0.2) -> None:
        while not stop.is_set():
            try:
                if not self.run_once():
                    stop.wait(idle_wait)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                log.warning("projection runner lost the database", extra={"error": str(exc)})
                stop.wait(1.0)
            except Exception:
                # The batch rolled back; keep the worker alive and try again (the log says why).
                log.exception("projection batch failed", extra={"application": self.app.name})
                stop.wait(1.0)
