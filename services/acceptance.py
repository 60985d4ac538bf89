"""Accepting a send: the process behind ``POST /v1/messages`` and ``POST /v1/campaigns``.

1. The account must be active and the sender ID valid and not blocked for it (the rules the
   preview shares, ``services.send_verdicts``); a schedule time
   must be at most a few minutes past and within the horizon (``domain.messaging.schedule``).
2. Every recipient is rendered, checked and priced by the one preview engine (the customer is
   charged what a preview shows); opted-out numbers, repeated numbers and refused recipients
   are skipped and reported (``services.send_verdicts``, the preview shows the same), the
   others are numbered 0..n-1 (message ids derive from send id and number).
3. The Ledger reserves the expected cost (prepaid credit, or the postpaid / small-volume parts
   limits), combined with the account's concurrent sends (``services.reservations``); a
   refusal is a 402 naming the shortfall, and nothing is recorded.
4. Messaging records the send. A single immediate send records its messages in the same
   transaction; everything else is staged (sealed per recipient) for the expander.

A repeated ``Idempotency-Key`` with the same request returns the first result, with another
request it is refused; a send that was reserved but never recorded (a crash in between) is
completed by the retry, because the reservation and the send share their id.

The service talks to the three applications (in memory in unit tests) and to ports: the key
ring, the opt-out list, the staging table and this month's volume of the account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

import msgspec
from eventsourcing.persistence import Notification

from domain.accounts.application import Accounts
from domain.accounts.contract import ContractType
from domain.ids import message_ids, send_id_for
from domain.ledger.application import Hold, Ledger
from domain.messaging.application import Messaging
from domain.messaging.exceptions import NoRecipientsError, TooManyRecipientsError
from domain.messaging.records import Lane, RecordedMessage
from domain.messaging.schedule import scheduled_time
from domain.messaging.send import ScheduledMessage, Send, Skipped
from domain.personal import PersonalData, recipient_key_ids
from domain.pricing.preview import PreviewRules, Recipient, RecipientPreview, preview_messages
from domain.tariff import Tariff
from domain.text.sender import SenderId
from services.ports import Keys, OptOuts
from services.reservations import ReservationBatcher
from services.send_verdicts import SendVerdicts, SkippedRecipient
from settings import Settings

MonthVolume = Callable[[UUID, datetime], int]
"""SMS parts the account sent this month up to the given moment (volume tiers of the price)."""


class Applications(Protocol):
    """What ``SendAcceptance.configured`` takes of a process's applications
    (``adapters.backend.Backend``)."""

    @property
    def accounts(self) -> Accounts: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def messaging(self) -> Messaging: ...

    @property
    def keyring(self) -> Keys: ...


class SendStaging(Protocol):
    """Where a send's messages wait, sealed, until the expander records them
    (``adapters.postgres.send_staging.Staging``)."""

    def stage(self, send_id: UUID, messages: Sequence[RecordedMessage]) -> None:
        """Store them (idempotent: a retried acceptance stores nothing twice)."""
        ...

    def chunk(self, send_id: UUID, start: int, size: int) -> list[RecordedMessage]:
        """Staged messages ``start`` .. ``start + size - 1``, opened to be shown."""
        ...


@dataclass(frozen=True)
class SendRequest:
    account_id: UUID
    lane: Lane
    text: str
    sender: str
    recipients: Sequence[Recipient]
    tariff: Tariff | None = None
    schedule_at: datetime | None = None
    normalize: bool = False
    idempotency_key: str | None = None
    name: str = ""
    list_id: UUID | None = None
    keep_repeats: bool = False
    """Send to a number as often as it is given (by default a repeated number gets one)."""

    def fingerprint(self) -> str:
        recipients = [(r.number, dict(r.fields)) for r in self.recipients]
        fields: list[object] = [
            self.lane,
            self.text,
            self.sender,
            recipients,
            self.tariff,
            self.schedule_at,
            self.normalize,
            self.name,
            self.list_id,
        ]
        if self.keep_repeats:  # only then: fingerprints of sends stored before stay the same
            fields.append("keep_repeats")
        return hashlib.sha256(msgspec.json.encode(fields)).hexdigest()


@dataclass
class AcceptedSend:
    send: Send
    messages: list[RecordedMessage] = field(default_factory=list)
    skipped: list[SkippedRecipient] = field(default_factory=list)
    repeated: bool = False
    recorded_chunks: tuple[Notification, ...] = ()
    """The messages recorded by the call itself (a due single send), for the API to publish at
    once instead of waiting for the outbox relay."""


KEY_WORKERS = 8
"""Threads that create a send's data keys while the ledger reserves its cost (two independent
round trips)."""


class SendAcceptance:
    def __init__(
        self,
        *,
        accounts: Accounts,
        ledger: Ledger,
        messaging: Messaging,
        keys: Keys,
        rules: PreviewRules,
        staging: SendStaging,
        opt_outs: OptOuts,
        validity: timedelta,
        month_volume: MonthVolume,
        single_send_max_recipients: int = 50,
        schedule_horizon: timedelta = timedelta(days=365),
    ) -> None:
        self.accounts = accounts
        self.ledger = ledger
        self.messaging = messaging
        self.keys = keys
        self.rules = rules
        self.staging = staging
        self.opt_outs = opt_outs
        self.validity = validity
        self.month_volume = month_volume
        self.single_send_max_recipients = single_send_max_recipients
        self.schedule_horizon = schedule_horizon
        self.verdicts = SendVerdicts(accounts, keys, opt_outs)
        self.holds = ReservationBatcher(ledger)
        self._key_workers = ThreadPoolExecutor(KEY_WORKERS, thread_name_prefix="data-keys")

    @classmethod
    def configured(
        cls,
        settings: Settings,
        apps: Applications,
        *,
        rules: PreviewRules,
        staging: SendStaging,
        opt_outs: OptOuts,
        month_volume: MonthVolume,
    ) -> SendAcceptance:
        """The acceptance with the settings' validity, limits and horizon (the API's, and the
        expander's for list campaigns)."""
        return cls(
            accounts=apps.accounts,
            ledger=apps.ledger,
            messaging=apps.messaging,
            keys=apps.keyring,
            rules=rules,
            staging=staging,
            opt_outs=opt_outs,
            validity=timedelta(hours=settings.message_validity_hours),
            month_volume=month_volume,
            single_send_max_recipients=settings.single_send_max_recipients,
            schedule_horizon=timedelta(days=settings.schedule_horizon_days),
        )

    def close(self) -> None:
        self._key_workers.shutdown(wait=True)

    def accept(self, request: SendRequest, now: datetime) -> AcceptedSend:
        limit = self.single_send_max_recipients
        if request.lane is Lane.TRANSACTIONAL and len(request.recipients) > limit:
            raise TooManyRecipientsError(len(request.recipients), limit)
        account = self.verdicts.check_request(request.account_id, request.sender)
        sender = SenderId.parse(request.sender)
        fingerprint = request.fingerprint()
        send_id = (
            send_id_for(request.account_id, request.idempotency_key)
            if request.idempotency_key
            else uuid4()
        )
        if request.idempotency_key:
            existing = self.messaging.existing(send_id, fingerprint, request.idempotency_key)
            if existing is not None:
                return AcceptedSend(existing, repeated=True)
        schedule_at = scheduled_time(request.schedule_at, now, self.schedule_horizon)
        tariff = request.tariff or account.tariff
        preview = preview_messages(
            request.text,
            request.recipients,
            rules=self.rules,
            tariff=tariff,
            month_volume=self.month_volume(request.account_id, now),
            now=now,
            sender=sender.value,
            normalize_text=request.normalize,
        )
        messages, skipped = self.priced_messages(
            request.account_id, send_id, preview.recipients, keep_repeats=request.keep_repeats
        )
        if not messages:
            raise NoRecipientsError(len(skipped))
        expected = sum(m.price for m in messages)
        parts = sum(m.parts for m in messages)
        limits = account.contract.limits
        limited = account.contract.type is not ContractType.PREPAID
        expires_at = (schedule_at or now) + self.validity
        # The recipients' data keys are created meanwhile: if the ledger refuses, they stay
        # unused (a key without data; an erasure deletes it with the others).
        keys = self._key_workers.submit(
            self.keys.create_keys,
            [m.number.key_id for m in messages],
            owner=request.account_id,
        )
        try:
            self.holds.reserve(
                request.account_id,
                Hold(
                    send_id=send_id,
                    amount=expected,
                    parts=parts,
                    count=len(messages),
                    now=now,
                    expires_at=expires_at,
                    daily_limit=limits.daily_parts if limited else None,
                    monthly_limit=limits.monthly_parts if limited else None,
                    valid_until=schedule_at,
                    new=not request.idempotency_key,
                ),
            )
        finally:
            keys.result()
        review = request.lane is Lane.BULK and len(messages) > account.review_threshold
        scheduled = schedule_at is not None
        send = Send(
            id=send_id,
            account_id=request.account_id,
            lane=request.lane,
            sender=sender.value,
            tariff=tariff,
            template=PersonalData(request.account_id, request.text),
            list_id=request.list_id,
            total=len(messages),
            parts=parts,
            expected_cost=expected,
            skipped=_counts(skipped),
            schedule_at=schedule_at,
            review_required=review,
            fingerprint=fingerprint,
            idempotency_key=request.idempotency_key,
            name=request.name,
            expires_at=expires_at,
        )
        immediate = request.lane is Lane.TRANSACTIONAL and not scheduled and not review
        if not immediate:
            self.staging.stage(send_id, messages)
        if request.lane is Lane.TRANSACTIONAL and scheduled:
            send.show_scheduled(tuple(scheduled_message(m) for m in messages))
        recorded, chunks = self.messaging.accept(send, messages if immediate else ())
        return AcceptedSend(recorded, messages, skipped, recorded is not send, chunks)

    def priced_messages(
        self,
        account_id: UUID,
        send_id: UUID,
        previews: Sequence[RecipientPreview],
        *,
        keep_repeats: bool,
        first_index: int = 0,
    ) -> tuple[list[RecordedMessage], list[SkippedRecipient]]:
        """The messages of the previewed recipients the send is for, numbered from
        ``first_index``, and those it skips (with their position among ``previews``)."""
        hashes = self.verdicts.number_hashes(account_id, previews)
        verdicts = self.verdicts.skipped(account_id, previews, hashes, keep_repeats=keep_repeats)
        taken: list[tuple[RecipientPreview, str, str, str]] = []
        skipped: list[SkippedRecipient] = []
        for preview, number_hash, verdict in zip(previews, hashes, verdicts, strict=True):
            if verdict is not None:
                skipped.append(verdict)
                continue
            if preview.to_e164 is None or preview.text is None:  # pragma: no cover
                raise RuntimeError("the preview accepted a recipient without number or text")
            taken.append((preview, number_hash, preview.to_e164, preview.text))
        keys = recipient_key_ids(account_id, [number_hash for _, number_hash, _, _ in taken])
        ids = message_ids(send_id, len(taken), first_index)
        messages = [
            RecordedMessage(
                index=first_index + index,
                message_id=ids[index],
                number_hash=number_hash,
                number=PersonalData(keys[index], number),
                text=PersonalData(keys[index], text),
                region=preview.region or "",
                encoding=str(preview.encoding),
                parts=preview.segments or 1,
                price=preview.price or 0,
                delivery_reports=bool(preview.delivery_reports),
            )
            for index, (preview, number_hash, number, text) in enumerate(taken)
        ]
        return messages, skipped


def scheduled_message(m: RecordedMessage) -> ScheduledMessage:
    return ScheduledMessage(
        m.message_id, m.index, m.number_hash, m.region, m.encoding, m.parts, m.price
    )


def _counts(skipped: list[SkippedRecipient]) -> tuple[Skipped, ...]:
    counts: dict[str, int] = {}
    for item in skipped:
        counts[item.reason] = counts.get(item.reason, 0) + 1
    return tuple(Skipped(reason, count) for reason, count in sorted(counts.items()))
