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

from dataclasses import dataclass

from domain.messaging.records import SubmitOutcome

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
