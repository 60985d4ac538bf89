"""Settlement: turns carrier results into money and closes finished sends.

Follows the Messaging notification log (carrier reports and cancellations) on a tracked
position. Accepted messages are captured in the send's reservation, messages that never reached
a carrier (rejected, cancelled, expired) are released; uncertain ones wait for their final
result. When every recorded message of a send is settled (and nothing more will be recorded)
the reservation is closed, returning what is left, and the send completes. A cancelled send's
staged recipients (those it had not recorded yet) are deleted, whoever cancelled it. Ledger
commands are idempotent per message, so replaying a batch after a crash charges nothing twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from adapters.backend import Backend, open_backend_patiently
from adapters.postgres.send_staging import Staging
from domain.ledger.exceptions import ReservationClosedError
from domain.ledger.reservation import reservation_id_for
from domain.messaging.batches import CarrierReport
from domain.messaging.records import SubmitOutcome
from domain.messaging.send import Send, SendState
from projections.runner import ProjectionRunner
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)
RELEASED = {
    SubmitOutcome.REJECTED: "not accepted by the carrier",
    SubmitOutcome.CANCELLED: "cancelled before it was sent",
    SubmitOutcome.EXPIRED: "expired before it was sent",
}
"""Outcomes whose price goes back to the customer, with the reason the ledger gives."""


class Settlement:
    """A projection whose "view" is the Ledger: see ``ProjectionRunner``."""

    name = "settlement"
    topics = (
        get_topic(CarrierReport.Recorded),
        get_topic(Send.Cancelled),
        get_topic(Send.ChunkRecorded),
    )

    def __init__(self, backend: Backend) -> None:
        if backend.pool is None:
            raise RuntimeError("settlement needs PostgreSQL")
        self.backend = backend
        self.staging = Staging(backend.pool, backend.keyring)

    def setup(self, conn: Any) -> None:
        """The ledger is event-sourced; only the staged recipients' table must exist."""
        self.staging.setup()

    def process(self, conn: Any, events: Sequence[tuple[int, Any]]) -> None:
        captures: dict[UUID, dict[int, tuple[int, int]]] = defaultdict(dict)
        releases: dict[tuple[UUID, str], dict[int, tuple[int, int]]] = defaultdict(dict)
        touched: set[UUID] = set()
        for _, event in events:
            if isinstance(event, CarrierReport.Recorded):
                for r in event.results:
                    touched.add(r.send_id)
                    if r.outcome is SubmitOutcome.ACCEPTED:
                        captures[r.send_id][r.index] = (r.price, r.parts)
                    elif r.outcome in RELEASED:
                        releases[r.send_id, RELEASED[r.outcome]][r.index] = (r.price, r.parts)
            else:
                touched.add(event.originator_id)
                if isinstance(event, Send.Cancelled):
                    self.staging.discard(event.originator_id)  # never recorded now
        ledger = self.backend.ledger
        now = datetime.now(UTC)
        for send_id, items in captures.items():
            indexes = sorted(items)
            prices, parts = [items[i][0] for i in indexes], [items[i][1] for i in indexes]
            with _late(send_id):
                ledger.capture(reservation_id_for(send_id), indexes, prices, parts)
        for (send_id, reason), items in releases.items():
            indexes = sorted(items)
            prices, parts = [items[i][0] for i in indexes], [items[i][1] for i in indexes]
            with _late(send_id):
                ledger.release(
                    reservation_id_for(send_id), indexes, prices, parts, reason=reason, now=now
                )
        for send_id in touched:
            self.finish_if_done(send_id, now)

    def finish_if_done(self, send_id: UUID, now: datetime) -> bool:
        return finish_send(self.backend, send_id, now)


def finish_send(backend: Backend, send_id: UUID, now: datetime) -> bool:
    """Complete a recorded (or cancelled) send whose money has stopped moving: close its
    reservation once every recorded message is settled, and complete the send when the
    reservation is closed (just now, before a crash ended the batch that closed it, or at its
    expiry by the sweeper; a cancelled send stays cancelled). False while messages are open."""
    send = backend.messaging.send(send_id)
    if send.state not in (SendState.RECORDED, SendState.CANCELLED):
        return False
    ledger = backend.ledger
    reservation = ledger.reservation(reservation_id_for(send_id))
    if not reservation.closed:
        if reservation.settled_count < send.recorded:
            return False
        ledger.close_reservation(reservation.id, reason=f"send {send.state.value}", now=now)
    backend.messaging.complete(send_id, reservation.captured, reservation.settled_count)
    return True


@contextlib.contextmanager
def _late(send_id: UUID) -> Iterator[None]:
    """A result after the reservation expired and was closed: its credit already went back to
    the customer, so nothing more is charged or released (logged for finance)."""
    try:
        yield
    except ReservationClosedError:
        log.warning("result after the reservation closed", extra={"send_id": str(send_id)})


def settlement_runner(backend: Backend) -> ProjectionRunner:
    if backend.pool is None:
        raise RuntimeError("settlement needs PostgreSQL")
    settlement = Settlement(backend)
    return ProjectionRunner(
        backend.messaging, [settlement], backend.pool, batch_size=50, topics=settlement.topics
    )


def run(settings: Settings) -> int:
    stop = stop_event_on_signals("settlement")
    backend = open_backend_patiently(settings, pool_size=4)
    try:
        settlement_runner(backend).run_forever(stop, idle_wait=0.1)
    finally:
        backend.close()
    return 0
