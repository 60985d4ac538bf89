"""A reply (MO) as Inbound knows it: which account and outgoing message it answers, by which
rule, and whether it asked to hear no more. Its text and the handset's number stay where the
ingest recorded them (Messaging's ``ReplyBatch``, sealed under the handset's own key): the
correlation adds no personal data."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class Rule(enum.StrEnum):
    NUMBER_AND_SENDER = "number_and_sender"
    """The most recent message to the handset from the sender it replied to, in the window."""
    DEDICATED_NUMBER = "dedicated_number"
    """It came to a dedicated inbound number: the account that holds it, certainly; the message
    is its most recent one to the handset from that number, if any (no window)."""
    NONE = "none"
    """No message to the handset from that sender in the window: kept for support."""


class InboundReply(Aggregate):
    """One reply; its id is the ingest's reply id, so correlating it again records nothing."""

    account_id: UUID | None
    message_id: UUID | None
    send_id: UUID | None
    rule: Rule
    stop: bool
    received_at: datetime

    class Correlated(Aggregate.Created):
        route: str
        account_id: UUID | None
        message_id: UUID | None
        send_id: UUID | None
        rule: Rule
        stop: bool
        received_at: datetime

    @event(Correlated)
    def __init__(
        self,
        id: UUID,
        route: str,
        account_id: UUID | None,
        message_id: UUID | None,
        send_id: UUID | None,
        rule: Rule,
        stop: bool,
        received_at: datetime,
    ) -> None:
        self.route = route
        self.account_id = account_id
        self.message_id = message_id
        self.send_id = send_id
        self.rule = rule
        self.stop = stop
        self.received_at = received_at
