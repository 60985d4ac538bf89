"""A submit claim: the carrier sender's write-ahead note about one message.

Right before a message's first part is written to the carrier (its window slot taken), its
claim is written: ``submitting``, attempt n, owned by the sender process that writes it. The
result recorded for it sets the claim to that result's outcome, in the same transaction. A
sender process holds a lease it renews while it lives; a claim is ``held`` while its owner's
lease runs. What a redelivery finds therefore tells the carrier sender what happened before:

- no claim: never written (or given back unsent): attempt 1;
- a final claim (accepted, rejected, cancelled, expired): done, never submitted again;
- ``uncertain``: submitted without an answer and recorded so: submitted again, attempt n + 1;
- ``submitting`` and held: a live sender is at it (its answers may be slow, or it is waiting
  for the database to record them): left alone, never submitted a second time;
- ``submitting`` and not held: its sender died between writing and recording, so the carrier
  may have it; that uncertainty is recorded before the message is submitted again. Because
  claims are written only right before the write, that is at most the sender's window.

The claims live outside the event store (``adapters.postgres.claims``): they are working state
of the sender, and every fact they stand for is also in a recorded ``CarrierReport``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.messaging.records import SubmitOutcome, SubmitResult

SUBMITTING = "submitting"
"""The state of a claim whose submit has no recorded result (yet)."""

FINAL = frozenset(
    outcome.value
    for outcome in (
        SubmitOutcome.ACCEPTED,
        SubmitOutcome.REJECTED,
        SubmitOutcome.CANCELLED,
        SubmitOutcome.EXPIRED,
    )
)
"""Claim states after which a message is never submitted again."""


@dataclass(frozen=True, slots=True)
class Claim:
    state: str
    """``submitting`` or the value of the last ``SubmitOutcome`` recorded for the message."""
    attempt: int
    held: bool = False
    """Its owner's lease runs: a live sender is submitting it (only for ``submitting``)."""
    age: float = field(default=0.0, compare=False)
    """Seconds since its state was set (an uncertain message waits its resubmit delay); not
    part of a claim's identity."""

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def interrupted(self) -> bool:
        """The attempt was written but its sender died before recording it: the carrier may
        have the message."""
        return self.state == SUBMITTING and not self.held

    @property
    def in_work(self) -> bool:
        """A live sender is submitting it right now."""
        return self.state == SUBMITTING and self.held


@dataclass(frozen=True, slots=True)
class ClaimTicket:
    """What a claim records of its message when it is taken: enough to settle an attempt
    whose answer was lost by a receipt alone (see ``InDoubt``)."""

    message_id: UUID
    attempt: int
    handset: str
    """The handset it goes to (``services.handsets.handset_tail``)."""
    send_id: UUID
    account_id: UUID
    index: int
    parts: int
    price: int


@dataclass(frozen=True, slots=True)
class InDoubt:
    """A message whose attempt went to a carrier without an answer the platform kept: its
    sender died between writing and recording, or the answer never came (recorded uncertain).
    A receipt from its handset with a carrier id nobody knows is that attempt's, if it is the
    handset's only message in doubt at that carrier: the attempt is then recorded accepted
    under that id, and the message is not sent again."""

    ticket: ClaimTicket
    route: str
    carrier: str

    def accepted_as(self, carrier_id: str, at: datetime) -> SubmitResult:
        t = self.ticket
        return SubmitResult(
            message_id=t.message_id,
            send_id=t.send_id,
            account_id=t.account_id,
            index=t.index,
            parts=t.parts,
            price=t.price,
            outcome=SubmitOutcome.ACCEPTED,
            carrier_ids=(carrier_id,),
            command_status=0,
            attempt=t.attempt,
            route=self.route,
            at=at,
        )
