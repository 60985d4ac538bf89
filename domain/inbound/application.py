"""The Inbound application: each reply's correlation, recorded once; and the pool of dedicated
inbound numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain.base import KontorApplication
from domain.inbound.numbers import POOL_ID, InboundNumbers
from domain.inbound.reply import InboundReply, Rule


class Inbound(KontorApplication):
    def correlate(
        self,
        reply_id: UUID,
        *,
        route: str,
        account_id: UUID | None,
        message_id: UUID | None,
        send_id: UUID | None,
        rule: Rule,
        stop: bool,
        received_at: datetime,
    ) -> InboundReply:
        """Record the reply's correlation; if it was recorded already (a batch offered again
        after a crash), the one recorded first is returned unchanged."""
        reply = InboundReply(
            id=reply_id,
            route=route,
            account_id=account_id,
            message_id=message_id,
            send_id=send_id,
            rule=rule,
            stop=stop,
            received_at=received_at,
        )
        try:
            self.save(reply)
        except IntegrityError:
            return self.reply(reply_id)
        return reply

    def reply(self, reply_id: UUID) -> InboundReply:
        found: InboundReply = self.repository.get(reply_id)
        return found

    def numbers(self) -> InboundNumbers:
        """The pool of dedicated inbound numbers (empty before the first was added)."""
        try:
            pool: InboundNumbers = self.repository.get(POOL_ID)
        except AggregateNotFoundError:
            pool = InboundNumbers()
        return pool

    def change_numbers(self, change: Callable[[InboundNumbers], None]) -> InboundNumbers:
        """Apply ``change`` to the pool and save it (raises the pool's errors; a concurrent
        change is retried on the pool as it is then)."""
        for _ in range(5):
            pool = self.numbers()
            change(pool)
            try:
                self.save(pool)
            except IntegrityError:
                continue
            return pool
        raise RuntimeError("the inbound number pool changed five times meanwhile")
