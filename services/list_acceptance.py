"""Accepting a list campaign in the background: ``POST /v1/campaigns`` with a ``list_id``.

A list may hold a million recipients; pricing, keying and staging them takes longer than an HTTP
request should, and holding them all at once takes more memory than a process should. So the
request does only what is quick (``begin``): the account, the sender, the schedule time, the
text against the list's first recipient, the list itself, the ``Idempotency-Key``. It stores an
acceptance job and is answered ``202`` with the campaign id at once.

The expander worker then advances open jobs (``advance``) a chunk at a time:

1. ``accepting``: the next ``chunk_size`` recipients of the list (by their id in the list) are
   rendered and priced by the preview engine, checked (opt-outs; a list holds a number once),
   given their data keys and staged, sealed, with the job's new progress in one transaction
   (``AcceptanceJobs.save_chunk``). Memory is bounded by the chunk, not by the list. A crash
   resumes after the last saved chunk; a second worker's copy of the chunk fails on the job's
   progress and stages nothing.
2. When the list is read to its end the job moves to ``reserving`` and the Ledger reserves the
   total (idempotent per send), then Messaging records the send with what was staged: the
   customer is charged what the staged (previewed) prices add up to, never more. A crash in
   between is finished by the next round, the reservation and the send sharing their id.
3. A refusal (credit, limits, an account no longer active, a recipient's text the template
   cannot render...) ends the job ``refused`` with the reason and nothing reserved or staged; a
   cancellation while ``accepting`` ends it ``cancelled`` the same way.

Prices are those in force when the campaign was requested, and the month's volume tiers count
from the parts the account had sent by then plus the campaign's parts priced so far, as in the
single-request acceptance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID, uuid4

from domain.accounts.contract import ContractType
from domain.accounts.exceptions import AccountError
from domain.ids import send_id_for
from domain.ledger.exceptions import LedgerError
from domain.messaging.exceptions import (
    IdempotencyConflictError,
    MessagingError,
    NoRecipientsError,
    SendNotCancellableError,
    SendNotFoundError,
)
from domain.messaging.list_acceptance import OPEN, AcceptanceJob, JobState, Refusal
from domain.messaging.records import Lane, RecordedMessage
from domain.messaging.schedule import scheduled_time
from domain.messaging.send import Send, Skipped
from domain.personal import PersonalData
from domain.phone.exceptions import PhoneError
from domain.pricing.exceptions import PricingError
from domain.pricing.preview import Recipient, preview_messages
from domain.text.exceptions import TextError
from domain.text.sender import SenderId
from services.acceptance import SendAcceptance, SendRequest

CHUNK = 5_000
"""Recipients a step prices, keys and stages at most (one staging transaction)."""

REFUSALS: tuple[type[Exception], ...] = (
    AccountError,
    LedgerError,
    MessagingError,
    PhoneError,
    PricingError,
    TextError,
)
"""The domain's refusals: a job that meets one ends ``refused`` with it (anything else is a
fault of the machine, retried by the next round)."""


class ListedRecipient(Protocol):
    """A list's recipient (``adapters.contacts.reading.ListRecipient``)."""

    @property
    def id(self) -> int: ...

    @property
    def e164(self) -> str: ...

    @property
    def fields(self) -> Mapping[str, str]: ...


class ListChunks(Protocol):
    """The account's lists as the acceptance reads them (``adapters.contacts``)."""

    def size(self, account_id: UUID, list_id: UUID) -> int:
        """Recipients in the list; ``ListNotFoundError`` if it is not the account's,
        ``ListImportingError`` while it is being imported."""
        ...

    def chunk(
        self, account_id: UUID, list_id: UUID, after: int, size: int
    ) -> Sequence[ListedRecipient]:
        """Up to ``size`` recipients with ids above ``after``, ascending (none: the end)."""
        ...


class AcceptanceJobs(Protocol):
    """Where acceptance jobs and their staged chunks are stored
    (``adapters.postgres.acceptance_jobs``)."""

    def create(self, job: AcceptanceJob) -> AcceptanceJob:
        """Store a new job; if one with its send id exists, that one is returned unchanged."""
        ...

    def get(self, send_id: UUID) -> AcceptanceJob | None: ...

    def open_jobs(self, limit: int) -> list[UUID]:
        """Jobs ``accepting`` or ``reserving``, oldest first."""
        ...

    def unaccepted(self, account_id: UUID, since: datetime) -> list[AcceptanceJob]:
        """The account's jobs that are not (yet) a send: open ones, and those refused or
        cancelled after ``since``; newest first."""
        ...

    def save_chunk(
        self, before: AcceptanceJob, after: AcceptanceJob, messages: Sequence[RecordedMessage]
    ) -> bool:
        """Stage ``messages`` and move the job from ``before``'s progress to ``after``'s, in
        one transaction; False (nothing staged) if the job is no longer as ``before`` says."""
        ...

    def transition(self, before: AcceptanceJob, after: AcceptanceJob) -> bool:
        """Replace the job by ``after`` if it is still as ``before`` says (state and
        progress); False otherwise."""
        ...

    def discard(self, send_id: UUID) -> None:
        """Delete the job's staged recipients (a refused or cancelled job)."""
        ...


@dataclass(frozen=True)
class ListCampaign:
    """What ``begin`` answers: the job, and the send if one was recorded (a repeated
    request of a campaign accepted meanwhile)."""

    job: AcceptanceJob | None
    send: Send | None = None
    repeated: bool = False


class ListAcceptance:
    def __init__(
        self,
        acceptance: SendAcceptance,
        jobs: AcceptanceJobs,
        lists: ListChunks,
        *,
        chunk_size: int = CHUNK,
    ) -> None:
        self.acceptance = acceptance
        self.jobs = jobs
        self.lists = lists
        self.chunk_size = chunk_size

    def begin(self, request: SendRequest, now: datetime) -> ListCampaign:
        """Check what can be checked at once and store the job (``202``)."""
        service = self.acceptance
        fingerprint = request.fingerprint()
        key = request.idempotency_key
        send_id = send_id_for(request.account_id, key) if key else uuid4()
        if key:  # a repeat is answered as the first request was
            send = service.messaging.existing(send_id, fingerprint, key)
            known = self.jobs.get(send_id)
            if known is not None and known.fingerprint != fingerprint:
                raise IdempotencyConflictError(key)
            if send is not None or known is not None:
                return ListCampaign(known, send, repeated=True)
        job = self._new_job(request, now, send_id, fingerprint)
        stored = self.jobs.create(job)
        if stored.fingerprint != fingerprint:  # two first requests with one key, at once
            raise IdempotencyConflictError(key or str(send_id))
        return ListCampaign(stored, repeated=stored != job)

    def quote(self, request: SendRequest, now: datetime) -> AcceptanceJob:
        """What the campaign would be if it were accepted now, stored nowhere: the whole list
        read a chunk at a time and priced as ``advance`` prices it (the same recipients skipped,
        the same volume tiers), so a confirmation can name the cost the acceptance will
        reserve. Memory is bounded by the chunk; nothing is keyed, staged or reserved."""
        job = self._new_job(request, now, uuid4(), request.fingerprint())
        while listed := self.lists.chunk(job.account_id, job.list_id, job.after, self.chunk_size):
            job, _ = self._priced(job, listed)
        if not job.staged:
            raise NoRecipientsError(job.skipped_total)
        return job

    def _new_job(
        self, request: SendRequest, now: datetime, send_id: UUID, fingerprint: str
    ) -> AcceptanceJob:
        """The request's job, checked: account, sender, schedule time, the list, the text."""
        if request.list_id is None:
            raise ValueError("a list campaign needs a list_id")
        service = self.acceptance
        account = service.verdicts.check_request(request.account_id, request.sender)
        sender = SenderId.parse(request.sender)
        schedule_at = scheduled_time(request.schedule_at, now, service.schedule_horizon)
        size = self.lists.size(request.account_id, request.list_id)
        tariff = request.tariff or account.tariff
        month_volume = service.month_volume(request.account_id, now)
        # The template must compile and a price list be in force: tried at once on the list's
        # first recipient, so that an error of the request is its answer, not a refused job.
        first = self.lists.chunk(request.account_id, request.list_id, 0, 1)
        if first:
            preview_messages(
                request.text,
                [Recipient(first[0].e164, first[0].fields)],
                rules=service.rules,
                tariff=tariff,
                month_volume=month_volume,
                now=now,
                sender=sender.value,
                normalize_text=request.normalize,
            )
        return AcceptanceJob(
            send_id=send_id,
            account_id=request.account_id,
            list_id=request.list_id,
            text=request.text,
            sender=sender.value,
            tariff=tariff,
            schedule_at=schedule_at,
            normalize=request.normalize,
            idempotency_key=request.idempotency_key,
            name=request.name,
            keep_repeats=request.keep_repeats,
            fingerprint=fingerprint,
            month_volume=month_volume,
            list_size=size,
            created_at=now,
            updated_at=now,
        )

    def advance(self, now: datetime, limit: int = 10) -> int:
        """One step of each open job (oldest first); returns the recipients read and the
        jobs finished, 0 when there was nothing to do."""
        return sum(self._step(send_id, now) for send_id in self.jobs.open_jobs(limit))

    def cancel(self, send_id: UUID, account_id: UUID | None) -> AcceptanceJob:
        """Cancel a campaign still being accepted (``account_id``: the caller's account, or
        None for the operator). Raises ``SendNotFoundError`` if there is no such job and
        ``SendNotCancellableError`` once it is reserving (a moment later it is a send, which
        is cancelled as such) or has ended."""
        job = self.jobs.get(send_id)
        if job is None or (account_id is not None and job.account_id != account_id):
            raise SendNotFoundError(send_id)
        while job.state is JobState.ACCEPTING:
            cancelled = replace(job, state=JobState.CANCELLED)
            if self.jobs.transition(job, cancelled):
                self.jobs.discard(send_id)
                return cancelled
            current = self.jobs.get(send_id)
            if current is None:  # pragma: no cover - jobs are never deleted while open
                raise SendNotFoundError(send_id)
            job = current
        raise SendNotCancellableError(job.state.value)

    def _step(self, send_id: UUID, now: datetime) -> int:
        job = self.jobs.get(send_id)
        if job is None or job.state not in OPEN:
            return 0
        try:
            if job.state is JobState.ACCEPTING:
                # An account closed or a sender blocked meanwhile ends the job at once.
                self.acceptance.verdicts.check_request(job.account_id, job.sender)
                listed = self.lists.chunk(job.account_id, job.list_id, job.after, self.chunk_size)
                if listed:
                    return self._stage(job, listed)
                if not job.staged:
                    raise NoRecipientsError(job.skipped_total)
                reserving = replace(job, state=JobState.RESERVING, updated_at=now)
                if not self.jobs.transition(job, reserving):
                    return 0
                job = reserving
            self._record(job)
        except REFUSALS as exc:
            refused = replace(job, state=JobState.REFUSED, refusal=Refusal.of(exc), updated_at=now)
            if self.jobs.transition(job, refused):
                self.jobs.discard(send_id)
        return 1

    def _stage(self, job: AcceptanceJob, listed: Sequence[ListedRecipient]) -> int:
        progressed, messages = self._priced(job, listed)
        self.acceptance.keys.create_keys([m.number.key_id for m in messages], owner=job.account_id)
        return len(listed) if self.jobs.save_chunk(job, progressed, messages) else 0

    def _priced(
        self, job: AcceptanceJob, listed: Sequence[ListedRecipient]
    ) -> tuple[AcceptanceJob, list[RecordedMessage]]:
        """The chunk's messages (rendered, priced, those skipped left out) and the job's
        progress after them."""
        service = self.acceptance
        preview = preview_messages(
            job.text,
            [Recipient(r.e164, r.fields) for r in listed],
            rules=service.rules,
            tariff=job.tariff,
            month_volume=job.month_volume + job.parts,
            now=job.created_at,
            sender=job.sender,
            normalize_text=job.normalize,
        )
        messages, skipped = service.priced_messages(
            job.account_id,
            job.send_id,
            preview.recipients,
            keep_repeats=job.keep_repeats,
            first_index=job.staged,
        )
        counts = dict(job.skipped)
        for item in skipped:
            counts[item.reason] = counts.get(item.reason, 0) + 1
        progressed = replace(
            job,
            after=listed[-1].id,
            read=job.read + len(listed),
            staged=job.staged + len(messages),
            parts=job.parts + sum(m.parts for m in messages),
            expected=job.expected + sum(m.price for m in messages),
            skipped=counts,
        )
        return progressed, messages

    def _record(self, job: AcceptanceJob) -> None:
        """Reserve the staged total and record the send (both idempotent per send id)."""
        service = self.acceptance
        account = service.verdicts.check_request(job.account_id, job.sender)
        accepted_at = job.updated_at or job.created_at
        expires_at = (job.schedule_at or accepted_at) + service.validity
        limits = account.contract.limits
        limited = account.contract.type is not ContractType.PREPAID
        service.ledger.reserve(
            job.account_id,
            send_id=job.send_id,
            amount=job.expected,
            parts=job.parts,
            count=job.staged,
            now=accepted_at,
            expires_at=expires_at,
            daily_limit=limits.daily_parts if limited else None,
            monthly_limit=limits.monthly_parts if limited else None,
            valid_until=job.schedule_at,
        )
        send = Send(
            id=job.send_id,
            account_id=job.account_id,
            lane=Lane.BULK,
            sender=job.sender,
            tariff=job.tariff,
            template=PersonalData(job.account_id, job.text),
            list_id=job.list_id,
            total=job.staged,
            parts=job.parts,
            expected_cost=job.expected,
            skipped=tuple(Skipped(reason, n) for reason, n in sorted(job.skipped.items())),
            schedule_at=job.schedule_at,
            review_required=job.staged > account.review_threshold,
            fingerprint=job.fingerprint,
            idempotency_key=job.idempotency_key,
            name=job.name,
            expires_at=expires_at,
        )
        service.messaging.accept(send, ())
        self.jobs.transition(job, replace(job, state=JobState.ACCEPTED))
