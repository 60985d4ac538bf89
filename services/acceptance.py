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
from eventsourcing.persistence import IntegrityError, Notification

from domain.accounts.account import Account
from domain.accounts.application import Accounts
from domain.accounts.contract import ContractType
from domain.ids import message_ids, send_id_for
from domain.inbound.application import Inbound
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
from services.group_commit import GroupCommit
from services.inbound_numbers import HeldNumbers
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
    def inbound(self) -> Inbound: ...

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


@dataclass
class _Prepared:
    """A send request checked and previewed, on its way through a batch."""

    request: SendRequest
    now: datetime
    account: Account
    sender: SenderId
    fingerprint: str
    send_id: UUID
    schedule_at: datetime | None
    tariff: Tariff
    previews: Sequence[RecipientPreview]
    hashes: Sequence[str]
    validity: timedelta
    messages: list[RecordedMessage] = field(default_factory=list)
    skipped: list[SkippedRecipient] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime:
        return (self.schedule_at or self.now) + self.validity

    @property
    def review(self) -> bool:
        lane = self.request.lane
        return lane is Lane.BULK and len(self.messages) > self.account.review_threshold

    @property
    def immediate(self) -> bool:
        """A due single send: its messages are recorded with it, not staged."""
        transactional = self.request.lane is Lane.TRANSACTIONAL
        return transactional and self.schedule_at is None and not self.review

    def hold(self) -> Hold:
        limits = self.account.contract.limits
        limited = self.account.contract.type is not ContractType.PREPAID
        return Hold(
            send_id=self.send_id,
            amount=sum(m.price for m in self.messages),
            parts=sum(m.parts for m in self.messages),
            count=len(self.messages),
            now=self.now,
            expires_at=self.expires_at,
            daily_limit=limits.daily_parts if limited else None,
            monthly_limit=limits.monthly_parts if limited else None,
            valid_until=self.schedule_at,
            new=not self.request.idempotency_key,
        )

    def send(self) -> Send:
        """The send to record (a new aggregate each call)."""
        request = self.request
        send = Send(
            id=self.send_id,
            account_id=request.account_id,
            lane=request.lane,
            sender=self.sender.value,
            tariff=self.tariff,
            template=PersonalData(request.account_id, request.text),
            list_id=request.list_id,
            total=len(self.messages),
            parts=sum(m.parts for m in self.messages),
            expected_cost=sum(m.price for m in self.messages),
            skipped=_counts(self.skipped),
            schedule_at=self.schedule_at,
            review_required=self.review,
            fingerprint=self.fingerprint,
            idempotency_key=request.idempotency_key,
            name=request.name,
            expires_at=self.expires_at,
        )
        if request.lane is Lane.TRANSACTIONAL and self.schedule_at is not None:
            send.show_scheduled(tuple(scheduled_message(m) for m in self.messages))
        return send


class _Batch:
    """What a batch of send requests looks up once per account: the account, this month's
    volume, the opted-out numbers among all its requests' recipients."""

    def __init__(self, verdicts: SendVerdicts, month_volume: MonthVolume) -> None:
        self.verdicts = verdicts
        self._month_volume = month_volume
        self._accounts: dict[UUID, Account] = {}
        self._volumes: dict[UUID, int] = {}
        self._hashes: dict[UUID, list[str]] = {}
        self._opted_out: dict[UUID, frozenset[str]] = {}

    def account(self, account_id: UUID, sender: str | None) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = self.verdicts.accounts.account(account_id)
        return self.verdicts.check(account, sender)

    def month_volume(self, account_id: UUID, now: datetime) -> int:
        """The volume as of the account's first request in the batch (milliseconds before)."""
        volume = self._volumes.get(account_id)
        if volume is None:
            volume = self._volumes[account_id] = self._month_volume(account_id, now)
        return volume

    def screen(self, account_id: UUID, hashes: Sequence[str]) -> None:
        """Note a request's number hashes, for one opt-out lookup of them all."""
        self._hashes.setdefault(account_id, []).extend(h for h in hashes if h)

    def opted_out(self, account_id: UUID) -> frozenset[str]:
        found = self._opted_out.get(account_id)
        if found is None:
            hashes = self._hashes.get(account_id, [])
            found = frozenset(self.verdicts.opt_outs.suppressed(account_id, hashes))
            self._opted_out[account_id] = found
        return found


Singles = GroupCommit[None, "tuple[SendRequest, datetime]", AcceptedSend]
"""Single sends, combined across accounts."""

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
        held: Callable[[str], UUID | None] | None = None,
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
        self.verdicts = SendVerdicts(accounts, keys, opt_outs, held)
        self.holds = ReservationBatcher(ledger)
        self.singles: Singles = GroupCommit(lambda _, requests: self.accept_many(requests))
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
            held=HeldNumbers(apps.inbound),
        )

    def close(self) -> None:
        self._key_workers.shutdown(wait=True)

    def accept(self, request: SendRequest, now: datetime) -> AcceptedSend:
        """Accept one send. Single sends (the transactional lane) are combined with the
        concurrent single sends of every account (``services.group_commit``): one batch reads
        each account once, creates the data keys in one round trip, reserves per wallet in one
        transaction and records every send in one more. A campaign is accepted on its own."""
        if request.lane is Lane.TRANSACTIONAL:
            limit = self.single_send_max_recipients
            if len(request.recipients) > limit:
                raise TooManyRecipientsError(len(request.recipients), limit)
            return self.singles.submit(None, (request, now))
        (result,) = self.accept_many([(request, now)])
        if isinstance(result, Exception):
            raise result
        return result

    def accept_many(
        self, requests: Sequence[tuple[SendRequest, datetime]]
    ) -> list[AcceptedSend | Exception]:
        """Each request's accepted send, or the refusal ``accept`` raises for it."""
        results: list[AcceptedSend | Exception | None] = [None] * len(requests)
        batch = _Batch(self.verdicts, self.month_volume)
        prepared: list[tuple[int, _Prepared]] = []
        for n, (request, now) in enumerate(requests):
            try:
                outcome = self._prepare(request, now, batch)
            except Exception as exc:  # noqa: BLE001 - this request's refusal, the others go on
                results[n] = exc
                continue
            if isinstance(outcome, AcceptedSend):
                results[n] = outcome
            else:
                prepared.append((n, outcome))
        priced: list[tuple[int, _Prepared]] = []
        for n, p in prepared:
            try:
                self._price(p, batch)
            except Exception as exc:  # noqa: BLE001
                results[n] = exc
                continue
            priced.append((n, p))
        for n, answer in self._hold_and_record(priced):
            results[n] = answer
        answered = [r for r in results if r is not None]
        if len(answered) != len(results):  # pragma: no cover - every step answers its requests
            raise RuntimeError("a send request was not answered")
        return answered

    def _prepare(
        self, request: SendRequest, now: datetime, batch: _Batch
    ) -> _Prepared | AcceptedSend:
        account = batch.account(request.account_id, request.sender)
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
            month_volume=batch.month_volume(request.account_id, now),
            now=now,
            sender=sender.value,
            normalize_text=request.normalize,
        )
        previews = preview.recipients
        hashes = self.verdicts.number_hashes(request.account_id, previews)
        batch.screen(request.account_id, hashes)
        return _Prepared(
            request, now, account, sender, fingerprint, send_id, schedule_at, tariff, previews,
            hashes, self.validity,
        )  # fmt: skip

    def _price(self, p: _Prepared, batch: _Batch) -> None:
        p.messages, p.skipped = self.priced_messages(
            p.request.account_id,
            p.send_id,
            p.previews,
            keep_repeats=p.request.keep_repeats,
            screened=(p.hashes, batch.opted_out(p.request.account_id)),
        )
        if not p.messages:
            raise NoRecipientsError(len(p.skipped))

    def _hold_and_record(
        self, priced: list[tuple[int, _Prepared]]
    ) -> list[tuple[int, AcceptedSend | Exception]]:
        answers: list[tuple[int, AcceptedSend | Exception]] = []
        by_account: dict[UUID, list[tuple[int, _Prepared]]] = {}
        for n, p in priced:
            by_account.setdefault(p.request.account_id, []).append((n, p))
        # The recipients' data keys are created meanwhile: if the ledger refuses, they stay
        # unused (a key without data; an erasure deletes it with the others).
        keys = [
            self._key_workers.submit(
                self.keys.create_keys,
                [m.number.key_id for _, p in sends for m in p.messages],
                owner=account_id,
            )
            for account_id, sends in by_account.items()
        ]
        held: list[tuple[int, _Prepared]] = []
        try:
            for account_id, sends in by_account.items():
                results = self.holds.reserve_many(account_id, [p.hold() for _, p in sends])
                for (n, p), result in zip(sends, results, strict=True):
                    if isinstance(result, Exception):
                        answers.append((n, result))
                    else:
                        held.append((n, p))
        finally:
            for created in keys:
                created.result()
        recordable: list[tuple[int, _Prepared]] = []
        for n, p in held:
            if not p.immediate:
                try:
                    self.staging.stage(p.send_id, p.messages)
                except Exception as exc:  # noqa: BLE001 - retried with its Idempotency-Key
                    answers.append((n, exc))
                    continue
            recordable.append((n, p))
        answers.extend(self._record(recordable))
        return answers

    def _record(
        self, sends: list[tuple[int, _Prepared]]
    ) -> list[tuple[int, AcceptedSend | Exception]]:
        """Record the sends in one transaction; if one of them was recorded meanwhile (the
        same Idempotency-Key twice), each is recorded on its own, as ``Messaging.accept``
        answers a repeat."""
        if len(sends) > 1:
            made = [(p, p.send()) for _, p in sends]
            try:
                recorded = self.messaging.accept_many(
                    [(send, p.messages if p.immediate else ()) for p, send in made]
                )
            except IntegrityError:
                pass
            else:
                return [
                    (n, AcceptedSend(send, p.messages, p.skipped, False, chunks))
                    for (n, p), (send, chunks) in zip(sends, recorded, strict=True)
                ]
        answers: list[tuple[int, AcceptedSend | Exception]] = []
        for n, p in sends:
            send = p.send()
            try:
                recorded_send, chunks = self.messaging.accept(
                    send, p.messages if p.immediate else ()
                )
            except Exception as exc:  # noqa: BLE001 - this request's refusal
                answers.append((n, exc))
                continue
            answers.append(
                (n, AcceptedSend(recorded_send, p.messages, p.skipped, recorded_send is not send,
                                 chunks))
            )  # fmt: skip
        return answers

    def priced_messages(
        self,
        account_id: UUID,
        send_id: UUID,
        previews: Sequence[RecipientPreview],
        *,
        keep_repeats: bool,
        first_index: int = 0,
        screened: tuple[Sequence[str], frozenset[str]] | None = None,
    ) -> tuple[list[RecordedMessage], list[SkippedRecipient]]:
        """The messages of the previewed recipients the send is for, numbered from
        ``first_index``, and those it skips (with their position among ``previews``).
        ``screened``: the recipients' number hashes and the account's opted-out ones among
        them, when the caller looked them up already."""
        if screened is None:
            hashes: Sequence[str] = self.verdicts.number_hashes(account_id, previews)
            opted_out = None
        else:
            hashes, opted_out = screened
        verdicts = self.verdicts.skipped(
            account_id, previews, hashes, keep_repeats=keep_repeats, opted_out=opted_out
        )
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
