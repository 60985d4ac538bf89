"""Cancelling a send, and saying what the cancellation stopped and what had already gone.

The send's state alone cannot say it: a campaign whose messages were all submitted a moment
ago still counts them ``queued`` in the read models. The carrier sender's claims
(``adapters.postgres.claims``) are written right before a message goes on the wire, so they
are the truth of what left: per message the last claim state.

- ``sent``: accepted by the carrier (charged);
- ``in_flight``: being submitted or submitted without an answer: may have gone (a sender that
  read the send's state just before the cancellation submits for at most
  ``services.submission.CANCELLATION_TTL`` more);
- ``rejected``: refused by the carrier (nothing charged);
- ``stopped``: everything else (never recorded, or recorded and not submitted): never sent,
  its credit goes back.

A send with nothing left to stop is refused (``NothingToCancelError``), not marked cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from domain.messaging.application import Messaging
from domain.messaging.claims import SUBMITTING
from domain.messaging.exceptions import NothingToCancelError
from domain.messaging.records import SubmitOutcome
from domain.messaging.send import Send, SendState


class ClaimCounts(Protocol):
    """Messages of a send per claim state (``adapters.postgres.claims.claim_counts``)."""

    def claim_counts(self, send_id: UUID) -> Mapping[str, int]: ...


@dataclass(frozen=True)
class CancellationOutcome:
    stopped: int
    sent: int
    in_flight: int
    rejected: int


NOTHING = CancellationOutcome(0, 0, 0, 0)


def outcome_of(total: int, counts: Mapping[str, int]) -> CancellationOutcome:
    sent = counts.get(SubmitOutcome.ACCEPTED.value, 0)
    in_flight = counts.get(SUBMITTING, 0) + counts.get(SubmitOutcome.UNCERTAIN.value, 0)
    rejected = counts.get(SubmitOutcome.REJECTED.value, 0)
    stopped = max(0, total - sent - in_flight - rejected)
    return CancellationOutcome(stopped, sent, in_flight, rejected)


class SendCancellation:
    def __init__(self, messaging: Messaging, claims: ClaimCounts) -> None:
        self.messaging = messaging
        self.claims = claims

    def cancel(
        self, send_id: UUID, account_id: UUID | None, actor: str, reason: str
    ) -> tuple[Send, CancellationOutcome]:
        """Cancel the send (``account_id``: only the owner's); what it stopped, counted after
        the cancellation was recorded."""
        send = self.messaging.send(send_id, account_id)
        if send.state in (SendState.COMPLETED, SendState.CANCELLED):  # refused as such
            return self.messaging.cancel(send_id, account_id, actor, reason), NOTHING
        before = outcome_of(send.total, self.claims.claim_counts(send_id))
        if before.stopped == 0:
            raise NothingToCancelError(before.sent, before.in_flight, before.rejected)
        cancelled = self.messaging.cancel(send_id, account_id, actor, reason)
        return cancelled, outcome_of(send.total, self.claims.claim_counts(send_id))
