"""Settlement: turns carrier results into money and closes finished sends.

Messages the carrier accepted are captured in their send's reservation; messages that never
reached a carrier (rejected, cancelled, expired) are released, with the outcome's reason;
uncertain ones wait for their final result. When every recorded message of a send is settled
(and nothing more will be recorded) the reservation is closed, returning what is left, and the
send completes. A cancelled send's staged recipients (those it had not recorded yet) are
deleted, whoever cancelled it.

Ledger commands are idempotent per message index, so settling a batch again after a crash
charges nothing twice. ``plan`` groups a batch of events (pure); ``Settlement.settle`` carries a
plan out.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.ledger.application import Ledger
from domain.ledger.exceptions import ReservationClosedError
from domain.ledger.reservation import reservation_id_for
from domain.messaging.application import Messaging
from domain.messaging.batches import CarrierReport
from domain.messaging.records import SubmitOutcome
from domain.messaging.send import Send, SendState

log = logging.getLogger(__name__)

RELEASED = {
    SubmitOutcome.REJECTED: "not accepted by the carrier",
    SubmitOutcome.CANCELLED: "cancelled before it was sent",
    SubmitOutcome.EXPIRED: "expired before it was sent",
}
"""Outcomes whose price goes back to the customer, with the reason the ledger gives."""

Items = dict[int, tuple[int, int]]
"""Message index -> (price, parts) of one send's messages to capture or release."""


class StagedRecipients(Protocol):
    """The staging table's part settlement needs (``adapters.postgres.send_staging``)."""

    def discard(self, send_id: UUID) -> None: ...


@dataclass
class SettlementPlan:
    """What a batch of Messaging events asks of the ledger."""

    captures: dict[UUID, Items] = field(default_factory=lambda: defaultdict(dict))
    releases: dict[tuple[UUID, str], Items] = field(default_factory=lambda: defaultdict(dict))
    touched: set[UUID] = field(default_factory=set)
    """Sends that may have finished with this batch."""
    cancelled: set[UUID] = field(default_factory=set)
    """Sends cancelled in this batch: their staged recipients go."""


def plan(events: Iterable[object]) -> SettlementPlan:
    """Group carrier results per send into captures and releases (by reason); a message named
    twice keeps its last result."""
    result = SettlementPlan()
    for event in events:
        if isinstance(event, CarrierReport.Recorded):
            for r in event.results:
                result.touched.add(r.send_id)
                if r.outcome is SubmitOutcome.ACCEPTED:
                    result.captures[r.send_id][r.index] = (r.price, r.parts)
                elif r.outcome in RELEASED:
                    result.releases[r.send_id, RELEASED[r.outcome]][r.index] = (r.price, r.parts)
        elif isinstance(event, (Send.Cancelled, Send.ChunkRecorded)):
            result.touched.add(event.originator_id)
            if isinstance(event, Send.Cancelled):
                result.cancelled.add(event.originator_id)
    return result


class Settlement:
    def __init__(self, ledger: Ledger, messaging: Messaging, staging: StagedRecipients) -> None:
        self.ledger = ledger
        self.messaging = messaging
        self.staging = staging

    def settle(self, events: Iterable[object], now: datetime) -> None:
        todo = plan(events)
        for send_id in todo.cancelled:
            self.staging.discard(send_id)  # never recorded now
        for send_id, items in todo.captures.items():
            indexes, prices, parts = _columns(items)
            with _late(send_id):
                self.ledger.capture(reservation_id_for(send_id), indexes, prices, parts)
        for (send_id, reason), items in todo.releases.items():
            indexes, prices, parts = _columns(items)
            with _late(send_id):
                self.ledger.release(
                    reservation_id_for(send_id), indexes, prices, parts, reason=reason, now=now
                )
        for send_id in todo.touched:
            finish_send(self.ledger, self.messaging, send_id, now)


def finish_send(ledger: Ledger, messaging: Messaging, send_id: UUID, now: datetime) -> bool:
    """Complete a recorded (or cancelled) send whose money has stopped moving: close its
    reservation once every recorded message is settled, and complete the send when the
    reservation is closed (just now, before a crash ended the batch that closed it, or at its
    expiry by the sweeper; a cancelled send stays cancelled). False while messages are open."""
    send = messaging.send(send_id)
    if send.state not in (SendState.RECORDED, SendState.CANCELLED):
        return False
    reservation = ledger.reservation(reservation_id_for(send_id))
    if not reservation.closed:
        if reservation.settled_count < send.recorded:
            return False
        ledger.close_reservation(reservation.id, reason=f"send {send.state.value}", now=now)
    messaging.complete(send_id, reservation.captured, reservation.settled_count)
    return True


def _columns(items: Items) -> tuple[list[int], list[int], list[int]]:
    indexes = sorted(items)
    return indexes, [items[i][0] for i in indexes], [items[i][1] for i in indexes]


@contextlib.contextmanager
def _late(send_id: UUID) -> Iterator[None]:
    """A result after the reservation expired and was closed: its credit already went back to
    the customer, so nothing more is charged or released (logged for finance)."""
    try:
        yield
    except ReservationClosedError:
        log.warning("result after the reservation closed", extra={"send_id": str(send_id)})
