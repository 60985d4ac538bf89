"""Erasure: the record that one person's data was erased from an account (GDPR Art. 17).

One aggregate per erasure request, created once and never changed. It names the person only by
the keyed hash of their number (which the account's opt-out list may still hold, so that they
are never messaged again) and says what was done: how many lists and list entries were removed,
whether they were on the opt-out list, and that their per-recipient data key was shredded
(which redacts their message history in every event sealed under it).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event


class Erasure(Aggregate):
    account_id: UUID
    number_hash: str
    lists: int
    recipients: int
    opted_out: bool

    class Recorded(Aggregate.Created):
        account_id: UUID
        number_hash: str
        actor: str
        lists: int
        recipients: int
        opted_out: bool
        key_shredded: bool

    @event(Recorded)
    def __init__(
        self,
        id: UUID,  # chosen by the caller, so a retried request can name the same erasure
        account_id: UUID,
        number_hash: str,
        actor: str,
        lists: int,
        recipients: int,
        opted_out: bool,
        key_shredded: bool,
    ) -> None:
        self.account_id = account_id
        self.number_hash = number_hash
        self.lists = lists
        self.recipients = recipients
        self.opted_out = opted_out
