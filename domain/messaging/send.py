"""Send: one accepted request to send — a single message (transactional lane) or a campaign.

Lifecycle: accepted -> (awaiting review) -> (scheduled) -> sending -> recorded -> completed, or
cancelled from any state before completed (by the customer, or by the system when the validity
period ends before an operator released it from review). Its messages are recorded in
``MessageChunk``s, chunk by chunk, each saved together with the send's progress
(``ChunkRecorded``), so a crashed expander resumes exactly where it stopped and a duplicate
expander collides. The expected cost is held in the Ledger's reservation for this send (id
derived from the send id). Consumed by the expander, the settlement worker (capture, release,
close) and the campaign dashboards.

The state machine is written once, in ``state_after``: the ``@event`` bodies apply it, and so
does the dashboards' read model (``projections.messaging``) from the facts its rows keep, so
the two cannot drift apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.messaging.exceptions import (
    NotAwaitingReviewError,
    SendExpiredError,
    SendNotCancellableError,
    SendNotDueError,
)
from domain.messaging.records import Lane
from domain.personal import PersonalData
from domain.tariff import Tariff


class SendState(enum.StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    RECORDED = "recorded"
    """Every message recorded; waiting for the carriers' answers."""
    COMPLETED = "completed"
    CANCELLED = "cancelled"


EXPIRED_BY = "system"
EXPIRED_REASON = "validity period passed before it was released from review"
"""Who and why, on the cancellation that ends a send nobody released from review in time."""


@dataclass(frozen=True)
class Skipped:
    """Recipients refused at acceptance, by reason (``opted_out``, ``invalid_number`` ...)."""

    reason: str
    count: int


@dataclass(frozen=True)
class ScheduledMessage:
    """A message of a scheduled single send as its read model shows it before it is recorded
    (no personal data: the number's keyed hash only)."""

    message_id: UUID
    index: int
    number_hash: str
    region: str
    encoding: str
    parts: int
    price: int


class Send(Aggregate):
    account_id: UUID
    lane: Lane
    sender: str
    tariff: Tariff
    template: PersonalData
    list_id: UUID | None
    total: int
    parts: int
    expected_cost: int
    skipped: tuple[Skipped, ...]
    schedule_at: datetime | None
    review_required: bool
    fingerprint: str
    idempotency_key: str | None
    name: str
    expires_at: datetime | None
    """When its reservation expires (schedule time or acceptance, plus the validity period):
    a message still unsent then is never sent. None for sends accepted before it was kept."""
    state: SendState
    recorded: int
    chunks: int

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Snapshots taken before sends kept their expiry."""
        state["expires_at"] = None

    class Accepted(Aggregate.Created):
        account_id: UUID
        lane: Lane
        sender: str
        tariff: Tariff
        template: PersonalData
        list_id: UUID | None
        total: int
        parts: int
        expected_cost: int
        skipped: tuple[Skipped, ...]
        schedule_at: datetime | None
        review_required: bool
        fingerprint: str
        idempotency_key: str | None
        name: str
        expires_at: datetime | None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Sends accepted before they kept their expiry."""
            state["expires_at"] = None

    @event(Accepted)
    def __init__(
        self,
        id: UUID,  # the send id is chosen by the caller (derived from the idempotency key)
        account_id: UUID,
        lane: Lane,
        sender: str,
        tariff: Tariff,
        template: PersonalData,
        list_id: UUID | None,
        total: int,
        parts: int,
        expected_cost: int,
        skipped: tuple[Skipped, ...],
        schedule_at: datetime | None,
        review_required: bool,
        fingerprint: str,
        idempotency_key: str | None,
        name: str,
        expires_at: datetime | None = None,
    ) -> None:
        self.account_id = account_id
        self.lane = lane
        self.sender = sender
        self.tariff = tariff
        self.template = template
        self.list_id = list_id
        self.total = total
        self.parts = parts
        self.expected_cost = expected_cost
        self.skipped = skipped
        self.schedule_at = schedule_at
        self.review_required = review_required
        self.fingerprint = fingerprint
        self.idempotency_key = idempotency_key
        self.name = name
        self.expires_at = expires_at
        self.recorded = 0
        self.chunks = 0
        self.state = state_after(
            Send.Accepted, None, review_required=review_required, schedule_at=schedule_at
        )

    def is_due(self, now: datetime) -> bool:
        """Messages may be recorded now: released, due, and not all recorded yet. (Past the
        validity period too: the carrier sender then records each of them as expired, so every
        recipient shows why nothing was sent.)"""
        if self.state is SendState.SENDING:
            return self.recorded < self.total
        return self.state is SendState.SCHEDULED and (
            self.schedule_at is None or self.schedule_at <= now
        )

    # -- review ----------------------------------------------------------------------------

    class ReviewReleased(Aggregate.Event):
        actor: str

    def release_review(self, actor: str, now: datetime | None = None) -> None:
        """An operator lets the send go out; refused once its validity period has passed (its
        credit has gone back, or is about to, and its messages would only expire)."""
        if self.state is not SendState.AWAITING_REVIEW:
            raise NotAwaitingReviewError(self.state.value)
        if now is not None and self.expires_at is not None and self.expires_at <= now:
            raise SendExpiredError(self.expires_at.isoformat())
        self._review_released(actor)

    @event(ReviewReleased)
    def _review_released(self, actor: str) -> None:
        self.state = state_after(Send.ReviewReleased, self.state, schedule_at=self.schedule_at)

    # -- recording -------------------------------------------------------------------------

    class ChunkRecorded(Aggregate.Event):
        chunk: int
        count: int

    def record_chunk(self, count: int) -> int:
        """Count a chunk of ``count`` messages as recorded; returns the chunk's number. A send
        cancelled while the expander rendered the chunk refuses it (else its last chunk would
        turn the cancelled send into a recorded one, and its messages would go out)."""
        if self.state not in (SendState.SCHEDULED, SendState.SENDING):
            raise SendNotDueError(self.state.value)
        chunk = self.chunks
        self._chunk_recorded(chunk, count)
        return chunk

    @event(ChunkRecorded)
    def _chunk_recorded(self, chunk: int, count: int) -> None:
        self.chunks = chunk + 1
        self.state = state_after(
            Send.ChunkRecorded,
            self.state,
            schedule_at=self.schedule_at,
            recorded=self.recorded,
            total=self.total,
            count=count,
        )
        self.recorded += count

    # -- scheduled single sends ------------------------------------------------------------

    class MessagesScheduled(Aggregate.Event):
        messages: tuple[ScheduledMessage, ...]

    def show_scheduled(self, messages: tuple[ScheduledMessage, ...]) -> None:
        """Make a scheduled send's messages visible (``scheduled``) before they are recorded:
        a single send answers with their ids, and they must not be 404 until they go."""
        if self.state is SendState.SCHEDULED and messages:
            self._messages_scheduled(messages)

    @event(MessagesScheduled)
    def _messages_scheduled(self, messages: tuple[ScheduledMessage, ...]) -> None:
        pass

    # -- cancel and complete ---------------------------------------------------------------

    class Cancelled(Aggregate.Event):
        actor: str
        reason: str
        recorded: int

    def cancel(self, actor: str, reason: str) -> None:
        if self.state in (SendState.COMPLETED, SendState.CANCELLED):
            raise SendNotCancellableError(self.state.value)
        self._cancelled(actor, reason, self.recorded)

    def expire(self, now: datetime) -> bool:
        """End a send held for review that nobody released within its validity period: it is
        cancelled by the system and none of its messages is recorded. True if it ended now. (A
        released send completes as its messages settle, those past the validity as expired.)"""
        waiting = self.state is SendState.AWAITING_REVIEW
        if not waiting or self.expires_at is None or self.expires_at > now:
            return False
        self._cancelled(EXPIRED_BY, EXPIRED_REASON, self.recorded)
        return True

    @event(Cancelled)
    def _cancelled(self, actor: str, reason: str, recorded: int) -> None:
        self.state = state_after(Send.Cancelled, self.state, schedule_at=self.schedule_at)

    class Completed(Aggregate.Event):
        captured: int
        settled: int

    def complete(self, captured: int, settled: int) -> None:
        if self.state is SendState.RECORDED:
            self._completed(captured, settled)

    @event(Completed)
    def _completed(self, captured: int, settled: int) -> None:
        self.state = state_after(Send.Completed, self.state, schedule_at=self.schedule_at)


def state_after(
    event: type[Aggregate.Event],
    state: SendState | None,
    *,
    schedule_at: datetime | None,
    review_required: bool = False,
    recorded: int = 0,
    total: int = 0,
    count: int = 0,
) -> SendState:
    """The state a send is in after ``event`` (a ``Send`` event class), from what a read model
    keeps of it as well: the state before (None before ``Accepted``), whether it was held for
    review and its schedule, and for ``ChunkRecorded`` the messages recorded before it, the
    chunk's ``count`` and the send's ``total``.

    It assigns, it does not guard: the commands refuse what is not allowed, and a stored event
    must replay to the state it gave when it was recorded. (Sends recorded before
    ``record_chunk`` refused a cancelled send may hold a chunk after their cancellation; the
    last one makes such a send recorded, as its messages did go out.)
    """
    if issubclass(event, Send.Accepted) and review_required:
        return SendState.AWAITING_REVIEW
    if issubclass(event, (Send.Accepted, Send.ReviewReleased)):
        return SendState.SCHEDULED if schedule_at is not None else SendState.SENDING
    if state is None:
        raise TypeError(f"{event.__qualname__} of a send that was never accepted")
    if issubclass(event, Send.ChunkRecorded):
        if recorded + count >= total:
            return SendState.RECORDED
        return SendState.SENDING if state is SendState.SCHEDULED else state
    if issubclass(event, Send.Cancelled):
        return SendState.CANCELLED
    if issubclass(event, Send.Completed):
        return SendState.COMPLETED
    raise TypeError(f"{event.__qualname__} is not an event of a send")
