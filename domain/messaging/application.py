"""The Messaging application: sends, their recorded messages, carrier results, delivery
reports and replies. Load, one domain call, save; a send and its chunk are saved together.

Batch facts (carrier results, reports, replies) are new aggregates, so recording them needs no
load; ``save_kwargs`` pass through to the recorder, which runs the given side statements (claims,
carrier-id index) in the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, Notification

from domain.base import KontorApplication
from domain.messaging.batches import (
    CarrierReport,
    DeliveryBatch,
    MessageChunk,
    ReplyBatch,
    UnmatchedReceipts,
)
from domain.messaging.exceptions import IdempotencyConflictError, SendNotFoundError
from domain.messaging.records import (
    DeliveryReport,
    RecordedMessage,
    Reply,
    SubmitResult,
    UnmatchedReceipt,
)
from domain.messaging.send import Send


class Messaging(KontorApplication):
    # A campaign's send gains an event per recorded chunk (200 for 100,000 messages), and the
    # expander, settlement and the carrier senders load it over and over while it runs: a
    # snapshot every 20 events keeps each load to a snapshot and at most 19 events.
    snapshotting_intervals = {Send: 20}  # noqa: RUF012 - eventsourcing's class attribute

    def send(self, send_id: UUID, account_id: UUID | None = None) -> Send:
        """The send; with ``account_id``, only if it belongs to that account."""
        try:
            send: Send = self.repository.get(send_id)
        except AggregateNotFoundError as exc:
            raise SendNotFoundError(send_id) from exc
        if account_id is not None and send.account_id != account_id:
            raise SendNotFoundError(send_id)
        return send

    def existing(self, send_id: UUID, fingerprint: str, key: str) -> Send | None:
        """The send an Idempotency-Key already made, if the request is the same one."""
        try:
            send = self.send(send_id)
        except SendNotFoundError:
            return None
        if send.fingerprint != fingerprint:
            raise IdempotencyConflictError(key)
        return send

    def accept(
        self, send: Send, first_chunk: Sequence[RecordedMessage] = ()
    ) -> tuple[Send, tuple[Notification, ...]]:
        """Record a new send, and with a due single send its messages, in one transaction.

        Returns the send (the one recorded before, if it was) and the notifications of the
        chunk recorded now, for the API to publish at once (none if nothing new was recorded)."""
        try:
            ((recorded, chunks),) = self.accept_many([(send, first_chunk)])
        except IntegrityError:
            existing = self.send(send.id)
            if existing.fingerprint != send.fingerprint:
                raise IdempotencyConflictError(send.idempotency_key or str(send.id)) from None
            return existing, ()
        return recorded, chunks

    def accept_many(
        self, sends: Sequence[tuple[Send, Sequence[RecordedMessage]]]
    ) -> list[tuple[Send, tuple[Notification, ...]]]:
        """Record new sends (each with its due single send's messages) in one transaction, as
        ``accept`` records one. If any of them exists already the whole batch raises
        IntegrityError and records nothing: the caller records each on its own then, with
        aggregates made anew (these have given up their pending events)."""
        pending: list[Any] = []
        for send, first_chunk in sends:
            pending.append(send)
            if first_chunk:
                pending.append(self._chunk(send, first_chunk))
        recordings = self.save(*pending)
        chunks: dict[UUID, list[Notification]] = {}
        for r in recordings:
            if isinstance(r.domain_event, MessageChunk.Recorded):
                chunks.setdefault(r.domain_event.send_id, []).append(r.notification)
        return [(send, tuple(chunks.get(send.id, ()))) for send, _ in sends]

    def _chunk(self, send: Send, messages: Sequence[RecordedMessage]) -> MessageChunk:
        number = send.record_chunk(len(messages))
        return MessageChunk.record(
            send_id=send.id,
            chunk=number,
            account_id=send.account_id,
            lane=send.lane,
            sender=send.sender,
            tariff=send.tariff,
            messages=tuple(messages),
            expires_at=send.expires_at,
        )

    def record_chunk(self, send: Send, messages: Sequence[RecordedMessage]) -> int:
        """Record the next chunk of a due send (the expander, with the send as it loaded it).
        Returns the chunk number; a concurrent duplicate fails on the chunk's id, and a send
        changed since it was loaded (cancelled) on its version: either records nothing."""
        chunk = self._chunk(send, messages)
        self.save(send, chunk)
        return send.chunks - 1

    def release_review(self, send_id: UUID, actor: str, now: datetime | None = None) -> Send:
        send = self.send(send_id)
        send.release_review(actor, now)
        self.save(send)
        return send

    def expire(self, send_id: UUID, now: datetime) -> bool:
        """End a send nobody released from review within its validity (see Send.expire)."""
        send = self.send(send_id)
        if not send.expire(now):
            return False
        self.save(send)
        return True

    def cancel(self, send_id: UUID, account_id: UUID | None, actor: str, reason: str) -> Send:
        send = self.send(send_id, account_id)
        send.cancel(actor, reason)
        self.save(send)
        return send

    def complete(self, send_id: UUID, captured: int, settled: int) -> None:
        send = self.send(send_id)
        send.complete(captured, settled)
        if send.pending_events:
            self.save(send)

    def record_results(
        self, route: str, results: Sequence[SubmitResult], **save_kwargs: Any
    ) -> UUID:
        report = CarrierReport(route=route, results=tuple(results))
        self.save(report, **save_kwargs)
        return report.id

    def record_deliveries(
        self, route: str, reports: Sequence[DeliveryReport], **save_kwargs: Any
    ) -> UUID:
        batch = DeliveryBatch(route=route, reports=tuple(reports))
        self.save(batch, **save_kwargs)
        return batch.id

    def record_replies(self, route: str, replies: Sequence[Reply], **save_kwargs: Any) -> UUID:
        batch = ReplyBatch(route=route, replies=tuple(replies))
        self.save(batch, **save_kwargs)
        return batch.id

    def record_unmatched(self, batch_id: UUID, receipts: Sequence[UnmatchedReceipt]) -> bool:
        """Keep receipts that never matched; False if ``batch_id`` was recorded already (the
        ingest crashed after recording them and offers them again)."""
        try:
            self.save(UnmatchedReceipts.record(batch_id, tuple(receipts)))
        except IntegrityError:
            return False
        return True
