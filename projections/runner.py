"""Projection runner: follows an application's notification log into PostgreSQL read models.

Each projection writes its view rows and its tracking position in one transaction, so a crash
never loses or repeats an event's effect. Events are taken in batches (up to ``batch_size``
notifications a transaction): eventsourcing's own runner commits once per event, which caps a
read model near a thousand events a second; batching lets dashboards keep up with the send
path. The tracking row is locked for the batch, so two runners of one projection never
interleave; the second simply finds the work done.

An event a projection cannot apply stops that projection only (``projections.failures``): a
batch that fails is applied again one event at a time in savepoints (only then: the happy path
keeps its one transaction a batch), everything before the culprit is kept, the culprit is
recorded in ``projection_failures`` and logged with its notification id, and the projection holds
there, trying it again with back-off, while its siblings go on. Its position never passes the
culprit: once the projection's code is fixed (a deploy restarts the worker, which tries at once),
the event applies, the record goes in the same transaction and the projection resumes.

A projection implements ``setup`` (create its tables) and ``process`` (apply a batch inside the
given transaction); ``singledispatchmethod`` handlers per event type are the usual shape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification
from psycopg_pool import ConnectionPool

from adapters.postgres.tracking import position, setup_tracking
from projections.batches import Batch, lock_position, move_position, select_batch
from projections.failures import (
    Backoff,
    Failure,
    ProjectionHeldError,
    clear_failure,
    error_text,
    first_failure,
    held,
    record_failure,
    retry_due,
    setup_failures,
)

log = logging.getLogger(__name__)
__all__ = ["Projection", "ProjectionHeldError", "ProjectionRunner", "position", "setup_tracking"]

TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)
"""The database went away (or the pool timed out): no event is to blame, the batch is retried."""
HOLD_POLL = 1.0
"""Seconds between looks of a held projection at its record (is its next attempt due, or has
an operator asked for one now)."""


class Projection(Protocol):
    name: str

    def setup(self, conn: psycopg.Connection[Any]) -> None: ...

    def process(self, conn: psycopg.Connection[Any], events: Sequence[tuple[int, Any]]) -> None: ...


@dataclass
class _Hold:
    next_look: float = 0.0
    failure: Failure | None = None
    """What this runner recorded (None: held since before it started, not tried yet)."""
    tried_at: float = 0.0
    now: bool = False
    """Try at the next round, whatever the back-off says (``catch_up``; a runner that finds
    the hold when it starts, which may be the deploy of a fix)."""


class ProjectionRunner:
    def __init__(
        self,
        app: Application[UUID],
        projections: Sequence[Projection],
        pool: ConnectionPool[Any],
        *,
        batch_size: int = 500,
        topics: Sequence[str] = (),
        backoff: Backoff | None = None,
    ) -> None:
        self.app = app
        self.projections = list(projections)
        self.pool = pool
        self.batch_size = batch_size
        self.topics = list(topics)
        self.backoff = backoff or Backoff()
        self.positions: dict[str, int] = {}
        """Where each projection stood after this runner's last round of it."""
        setup_tracking(pool)
        with pool.connection() as conn:
            setup_failures(conn)
            for projection in self.projections:
                projection.setup(conn)
                conn.execute(
                    "INSERT INTO projection_tracking VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    (projection.name, app.name),
                )
            names = {p.name for p in self.projections}
            # Held before this runner started (perhaps by the code it replaces: a deploy of a
            # fix): try at once, whatever the back-off says.
            self._held = {n: _Hold(now=True) for n in held(conn, app.name) if n in names}

    def run_once(self) -> int:
        """Apply the next batch to every projection; returns how many events were applied."""
        applied = 0
        for projection in self.projections:
            if projection.name in self._held:
                applied += self._retry_held(projection)
            else:
                applied += self._advance(projection)
        return applied

    @property
    def held(self) -> dict[str, Failure | None]:
        """The projections held at an event, with what this runner recorded about it."""
        return {name: hold.failure for name, hold in self._held.items()}

    # -- the happy path: one transaction a batch ---------------------------------------------

    def _advance(self, projection: Projection) -> int:
        try:
            with self.pool.connection() as conn, conn.transaction():
                batch = self._batch(conn, projection)
                if batch.notifications:
                    decoder = self._decoder(projection)
                    decoded = ((n.id, decoder(n)) for n in batch.notifications)
                    projection.process(conn, [(i, e) for i, e in decoded if e is not None])
                self._save(conn, projection, batch, batch.reached)
                return len(batch.notifications)
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - find the event to blame (or none) below
            log.warning(
                "projection batch failed; applying its events one at a time",
                extra={**self._names(projection), "error": error_text(exc)},
            )
            return self._isolate(projection)

    # -- the failure path: one event a savepoint ---------------------------------------------

    def _retry_held(self, projection: Projection) -> int:
        hold = self._held[projection.name]
        now = time.monotonic()
        if not hold.now:
            if now < hold.next_look:
                return 0
            hold.next_look = now + HOLD_POLL
            with self.pool.connection() as conn:
                if not retry_due(conn, projection.name, self.app.name):
                    return 0
        return self._isolate(projection)

    def _isolate(self, projection: Projection) -> int:
        """Apply the next batch one event at a time; hold at the first that fails."""
        decoder = self._decoder(projection)
        failure: Failure | None = None
        with self.pool.connection() as conn, conn.transaction():
            batch = self._batch(conn, projection)

            def apply(notification: Notification) -> None:
                with conn.transaction():
                    event = decoder(notification)
                    if event is not None:
                        projection.process(conn, [(notification.id, event)])
                        # A deferred constraint (the journal's balance) is checked now, so
                        # that it fails in its own event's savepoint, not at the commit.
                        conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
                        conn.execute("SET CONSTRAINTS ALL DEFERRED")

            found = first_failure(batch.notifications, apply)
            error: Exception | None = None
            if found is None:
                applied = len(batch.notifications)
                reached = batch.reached
                clear_failure(conn, projection.name, self.app.name)
            else:
                applied, culprit, error = found
                if isinstance(error, TRANSIENT):
                    raise error
                reached = culprit.id - 1  # everything selected before it has applied
                failure = record_failure(
                    conn, projection.name, self.app.name, culprit, error, self.backoff
                )
            self._save(conn, projection, batch, reached)
        self._after_isolation(projection, failure, error)
        return applied

    def _after_isolation(
        self, projection: Projection, failure: Failure | None, exc: Exception | None
    ) -> None:
        if failure is None:
            if self._held.pop(projection.name, None) is not None:
                log.info(
                    "projection applied its held event; resuming", extra=self._names(projection)
                )
            return
        now = time.monotonic()
        self._held[projection.name] = _Hold(now + HOLD_POLL, failure, tried_at=now)
        log.error(
            "projection cannot apply an event; holding there and retrying",
            exc_info=exc,
            extra={**failure.log_fields(), "retry_in": self.backoff.delay(failure.attempts)},
        )

    # -- shared steps ------------------------------------------------------------------------

    def _save(
        self, conn: psycopg.Connection[Any], projection: Projection, batch: Batch, reached: int
    ) -> None:
        move_position(conn, projection.name, self.app.name, batch.start, reached)
        self.positions[projection.name] = max(batch.start, reached)

    def _batch(self, conn: psycopg.Connection[Any], projection: Projection) -> Batch:
        start = lock_position(conn, projection.name, self.app.name)
        return select_batch(self.app, start, self.batch_size, self.topics)

    def _decoder(self, projection: Projection) -> Callable[[Notification], Any]:
        decoder: Callable[[Notification], Any] = getattr(projection, "decode", None) or self.decode
        return decoder

    def _names(self, projection: Projection) -> dict[str, str]:
        return {"projection": projection.name, "application": self.app.name}

    def decode(self, notification: Notification) -> Any:
        return self.app.mapper.to_domain_event(notification)

    # -- driving it --------------------------------------------------------------------------

    def caught_up_to(self, target: int) -> bool:
        """Every projection has reached ``target`` in this runner's rounds, or is held at an
        event before it (which ``/ready`` reports)."""
        return all(
            p.name in self._held or self.positions.get(p.name, 0) >= target
            for p in self.projections
        )

    def catch_up(self, timeout: float = 30.0) -> None:
        """Run until every projection has applied everything recorded so far; a projection
        held at an event it cannot apply (tried again at once, whatever its back-off) raises
        ``ProjectionHeldError`` naming it."""
        target = self.app.recorder.max_notification_id() or 0
        started = time.monotonic()
        deadline = started + timeout
        for hold in self._held.values():
            hold.now = True
        while True:
            with self.pool.connection() as conn:
                behind = {
                    p.name
                    for p in self.projections
                    if position(conn, p.name, self.app.name) < target
                }
            if not behind:
                return
            holds = [self._held.get(name) for name in behind]
            stuck = [h.failure for h in holds if h and h.failure and h.tried_at >= started]
            if len(stuck) == len(behind):
                raise ProjectionHeldError(stuck)
            if time.monotonic() > deadline:
                raise TimeoutError(f"projections of {self.app.name} did not reach {target}")
            self.run_once()

    def lowest_position(self) -> int:
        with self.pool.connection() as conn:
            return min(position(conn, p.name, self.app.name) for p in self.projections)

    def run_forever(
        self,
        stop: threading.Event,
        idle_wait: float = 0.2,
        *,
        on_caught_up: Callable[[], None] | None = None,
    ) -> None:
        """Run rounds until ``stop``; ``on_caught_up`` is called once, when every projection
        has reached the log's head as it was when this began (or is held before it)."""
        target: int | None = None
        while not stop.is_set():
            try:
                if on_caught_up is not None and target is None:
                    target = self.app.recorder.max_notification_id() or 0
                applied = self.run_once()
                if on_caught_up is not None and target is not None and self.caught_up_to(target):
                    on_caught_up()
                    on_caught_up = None
                if not applied:
                    stop.wait(idle_wait)
            except TRANSIENT as exc:
                log.warning("projection runner lost the database", extra={"error": str(exc)})
                stop.wait(1.0)
            except Exception:
                # Not an event's fault (those hold their projection): log it and try again.
                log.exception("projection round failed", extra={"application": self.app.name})
                stop.wait(1.0)
