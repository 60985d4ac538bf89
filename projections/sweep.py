"""The sweeper's candidates from the read models (``services.sweeping.Candidates``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from projections import ledger_queries, messaging_queries


@dataclass(frozen=True)
class OpenMessage:
    message_id: UUID
    send_id: UUID
    account_id: UUID


class ReadModelCandidates:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def reservations_due(self, now: datetime) -> list[UUID]:
        return ledger_queries.open_reservations_due(self.pool, now)

    def expired_sends_not_completed(self, now: datetime) -> list[UUID]:
        return messaging_queries.expired_sends_not_completed(self.pool, now)

    def accounts_with_expired_lots(self, now: datetime) -> list[UUID]:
        return ledger_queries.accounts_with_expired_lots(self.pool, now)

    def messages_without_final_report(
        self, recorded_before: datetime, limit: int
    ) -> Sequence[OpenMessage]:
        rows = messaging_queries.open_messages(
            self.pool,
            send_id=None,
            account_id=None,
            older_than=recorded_before,
            limit=limit,
            states=("pending", "buffered"),
        )
        return [OpenMessage(r["message_id"], r["send_id"], r["account_id"]) for r in rows]
