"""A submit claim: the carrier sender's write-ahead note about one message.

Before a message goes to the carrier its claim is written (``submitting``, attempt n); the
result recorded for it sets the claim to that result's outcome, in the same transaction. What
a redelivery finds therefore tells the carrier sender what happened before:

- no claim: never tried (or given back unsent): attempt 1;
- a final claim (accepted, rejected, cancelled, expired): done, never submitted again;
- ``uncertain``: submitted without an answer and recorded so: submitted again, attempt n + 1;
- still ``submitting``: the sender died between submit and record, so the carrier may have it;
  that uncertainty is recorded before the message is submitted again.

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

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def interrupted(self) -> bool:
        """The attempt was made but never recorded: the carrier may have the message."""
        return self.state == SUBMITTING
