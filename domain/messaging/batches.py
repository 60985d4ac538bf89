"""Batch aggregates of the send path: each records one batch of per-message facts at once.

- ``MessageChunk``: up to 500 messages of a send, rendered, priced and sealed (written by the API
  for a single send, by the expander for a campaign). Its id derives from the send and the chunk
  number, so a repeated expansion collides instead of recording messages twice.
- ``CarrierReport``: a carrier sender's results (accepted with carrier ids, rejected, uncertain,
  cancelled) for the messages it handled in one flush.
- ``DeliveryBatch``: delivery reports (and query_sm answers, and validity expiries).
- ``ReplyBatch``: incoming messages (MO) as they arrived, not yet correlated.
- ``UnmatchedReceipts``: delivery reports that never matched a submitted message (kept for
  support; its id derives from where the receipts were stored, so recording them again after a
  crash collides instead of keeping them twice).

Each is created whole and never changed, so recording one costs no load.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.messaging.records import (
    DeliveryReport,
    Lane,
    RecordedMessage,
    Reply,
    SubmitResult,
    UnmatchedReceipt,
)
from domain.tariff import Tariff

CHUNK_NAMESPACE = UUID("7a0c7b58-9d4b-4c4f-a0d4-7c5d0a4e2b61")


def chunk_id(send_id: UUID, chunk: int) -> UUID:
    return uuid5(CHUNK_NAMESPACE, f"{send_id}:{chunk}")


class MessageChunk(Aggregate):
    """Each lane has its own created-event class, so the outbox relay follows the transactional
    lane's chunks on a position of their own and they never queue behind a campaign's."""

    send_id: UUID

    class Recorded(Aggregate.Created):
        send_id: UUID
        chunk: int
        account_id: UUID
        lane: Lane
        sender: str
        tariff: Tariff
        messages: tuple[RecordedMessage, ...]
        expires_at: datetime | None
        """The send's: a message still unsent then is never sent (None: not kept yet)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["expires_at"] = None

    class TransactionalRecorded(Recorded):
        pass

    def __init__(
        self,
        send_id: UUID,
        chunk: int,
        account_id: UUID,
        lane: Lane,
        sender: str,
        tariff: Tariff,
        messages: tuple[RecordedMessage, ...],
        expires_at: datetime | None,
    ) -> None:
        self.send_id = send_id

    @classmethod
    def record(
        cls,
        *,
        send_id: UUID,
        chunk: int,
        account_id: UUID,
        lane: Lane,
        sender: str,
        tariff: Tariff,
        messages: tuple[RecordedMessage, ...],
        expires_at: datetime | None = None,
    ) -> MessageChunk:
        created = cls.TransactionalRecorded if lane is Lane.TRANSACTIONAL else cls.Recorded
        chunk_aggregate: MessageChunk = cls._create(
            created,
            id=chunk_id(send_id, chunk),
            send_id=send_id,
            chunk=chunk,
            account_id=account_id,
            lane=lane,
            sender=sender,
            tariff=tariff,
            messages=messages,
            expires_at=expires_at,
        )
        return chunk_aggregate


class CarrierReport(Aggregate):
    route: str

    class Recorded(Aggregate.Created):
        route: str
        results: tuple[SubmitResult, ...]

    @event(Recorded)
    def __init__(self, route: str, results: tuple[SubmitResult, ...]) -> None:
        self.route = route


class DeliveryBatch(Aggregate):
    route: str

    class Recorded(Aggregate.Created):
        route: str
        reports: tuple[DeliveryReport, ...]

    @event(Recorded)
    def __init__(self, route: str, reports: tuple[DeliveryReport, ...]) -> None:
        self.route = route


class ReplyBatch(Aggregate):
    route: str

    class Recorded(Aggregate.Created):
        route: str
        replies: tuple[Reply, ...]

    @event(Recorded)
    def __init__(self, route: str, replies: tuple[Reply, ...]) -> None:
        self.route = route


class UnmatchedReceipts(Aggregate):
    receipts: tuple[UnmatchedReceipt, ...]

    class Recorded(Aggregate.Created):
        receipts: tuple[UnmatchedReceipt, ...]

    def __init__(self, receipts: tuple[UnmatchedReceipt, ...]) -> None:
        self.receipts = receipts

    @classmethod
    def record(cls, batch_id: UUID, receipts: tuple[UnmatchedReceipt, ...]) -> UnmatchedReceipts:
        recorded: UnmatchedReceipts = cls._create(cls.Recorded, id=batch_id, receipts=receipts)
        return recorded
