"""The Messaging context's errors: each class states the rule it guards."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID


class MessagingError(Exception):
    """Base of every messaging rule violation."""


class SendNotFoundError(MessagingError):
    """A send is only visible to the account that made it."""

    def __init__(self, send_id: UUID) -> None:
        self.send_id = send_id
        super().__init__(f"no send {send_id}")


class SendNotCancellableError(MessagingError):
    """Only a send that is awaiting review, scheduled or still sending can be cancelled."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"a {state} send cannot be cancelled")


class SendNotDueError(MessagingError):
    """Messages are recorded only for a send that is released (scheduled or sending): never
    for one awaiting review, fully recorded, completed or cancelled."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"a {state} send records no messages")


class NotAwaitingReviewError(MessagingError):
    """Only a send held for review can be released by an operator."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"the send is {state}, not awaiting review")


class SendExpiredError(MessagingError):
    """A send whose validity period passed before it was released sends nothing: its
    reservation expired and its credit went back to the customer."""

    def __init__(self, expired_at: str) -> None:
        self.expired_at = expired_at
        super().__init__(f"the send's validity period ended at {expired_at}")


class IdempotencyConflictError(MessagingError):
    """An Idempotency-Key names one request: reusing it with another body is refused."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"Idempotency-Key {key!r} was used with a different request")


class NoRecipientsError(MessagingError):
    """A send needs at least one recipient that can be sent to."""

    def __init__(self, skipped: int) -> None:
        self.skipped = skipped
        super().__init__(f"no recipient can be sent to ({skipped} skipped)")


class TooManyRecipientsError(MessagingError):
    """A transactional send (POST /v1/messages) takes at most a few recipients; use a
    campaign for more."""

    def __init__(self, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"{count} recipients; a single send takes at most {limit}, use a campaign")


class ScheduleInPastError(MessagingError):
    """A send may be scheduled at most ``grace`` in the past (a clock a little behind, a form
    filled in slowly: sent at once); a time further back is refused, not sent at once."""

    def __init__(self, send_at: datetime, now: datetime, grace: timedelta) -> None:
        self.send_at = send_at.isoformat()
        self.now = now.isoformat()
        self.grace_seconds = int(grace.total_seconds())
        super().__init__(
            f"send_at {self.send_at} is more than {self.grace_seconds // 60} minutes in the past"
            f" (now {self.now})"
        )


class ScheduleTooFarError(MessagingError):
    """A send may be scheduled at most the platform's horizon ahead
    (``KONTOR_SCHEDULE_HORIZON_DAYS``)."""

    def __init__(self, send_at: datetime, latest: datetime) -> None:
        self.send_at = send_at.isoformat()
        self.latest = latest.isoformat()
        super().__init__(f"send_at {self.send_at} is after the latest allowed, {self.latest}")


class NothingToCancelError(MessagingError):
    """A send whose every message has already gone to the carrier (or was refused by it) has
    nothing left to stop: cancelling it would only mislabel what was sent and charged."""

    def __init__(self, sent: int, in_flight: int, rejected: int) -> None:
        self.sent = sent
        self.in_flight = in_flight
        self.rejected = rejected
        super().__init__(
            f"every message has gone already: {sent} accepted by the carrier, {in_flight}"
            f" being submitted, {rejected} refused by it"
        )
