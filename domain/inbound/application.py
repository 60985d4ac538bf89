"""The Inbound application: each reply's correlation, recorded once."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.base import KontorApplication
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
