"""Correlating replies (MO): which account and outgoing message a reply answers, and STOP.

A reply names the handset that sent it and the address it was sent to: the sender ID of the
message it answers (a handset answers the number or name it got the message from). The
message it answers is the most recent one to that handset from that sender within the window
(default 7 days) before the reply arrived, across the accounts that sent as that sender; the
rule and the match are recorded (``domain.inbound``), and a reply that matches nothing is
recorded as such, for support. Numbers are looked up by each account's own keyed hash, never
by one that links accounts.

A reply that came to a dedicated inbound number (``domain.inbound.numbers``) belongs to the
account that holds it, whatever the window; the message it answers is that account's most
recent one to the handset from that number, if there is one.

A reply whose first word is a STOP word (``domain.inbound.stop``, or one of the matched
account's own) puts the handset on that account's opt-out list, with the reply as its source:
the next send skips it.

Recording is idempotent per reply id (a batch offered again after a crash records nothing
new and returns what was recorded first); the opt-out is repeated then, which changes
nothing if it was done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.inbound.application import Inbound
from domain.inbound.reply import InboundReply, Rule
from domain.inbound.stop import is_stop

WINDOW = timedelta(days=7)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class Answered(Protocol):
    """The outgoing message a reply answers."""

    @property
    def account_id(self) -> UUID: ...

    @property
    def message_id(self) -> UUID: ...

    @property
    def send_id(self) -> UUID: ...


class ReplyMessages(Protocol):
    """Outgoing messages as the messaging read side has them
    (``projections.messaging_queries.ReplyCandidates``)."""

    def accounts_sending_as(self, sender: str, since: datetime) -> list[UUID]: ...

    def latest_to(
        self, number_hashes: dict[UUID, str], sender: str, since: datetime, until: datetime
    ) -> Answered | None:
        """The most recent message to one of these (account, number hash) pairs from the
        sender, recorded between ``since`` and ``until``."""
        ...


class LookupHashes(Protocol):
    def lookup_hash(self, account_id: UUID, value: str) -> str: ...


class StopWords(Protocol):
    def __call__(self, account_id: UUID) -> frozenset[str]:
        """The account's own STOP words (``Account.stop_words``)."""
        ...


class DedicatedNumbers(Protocol):
    def __call__(self, number: str) -> UUID | None:
        """The account a dedicated inbound number is assigned to
        (``domain.inbound.numbers``)."""
        ...


class OptOutList(Protocol):
    def opt_out(
        self, account_id: UUID, number: str, *, actor: str, source: str, now: datetime
    ) -> object: ...


@dataclass(frozen=True)
class IncomingReply:
    """A reply as the ingest recorded it, opened: ``number`` is None once erased."""

    reply_id: UUID
    route: str
    number: str | None
    recipient: str
    text: str | None
    received_at: datetime


def sender_of(recipient: str) -> str:
    """The sender ID a reply was sent to, as sends store it: a number's digits without ``+``
    or ``00`` (``SenderId``), a name as it is."""
    address = recipient.strip()
    digits = address.removeprefix("+")
    if digits.isascii() and digits.isdigit():
        return digits.removeprefix("00")
    return address


class ReplyCorrelation:
    def __init__(
        self,
        inbound: Inbound,
        messages: ReplyMessages,
        keys: LookupHashes,
        opt_outs: OptOutList,
        account_words: StopWords,
        window: timedelta = WINDOW,
        dedicated: DedicatedNumbers | None = None,
    ) -> None:
        self.inbound = inbound
        self.messages = messages
        self.keys = keys
        self.opt_outs = opt_outs
        self.account_words = account_words
        self.window = window
        self.dedicated = dedicated

    def correlate(self, reply: IncomingReply, now: datetime) -> InboundReply:
        holder = self.dedicated(sender_of(reply.recipient)) if self.dedicated else None
        account_id: UUID | None
        if holder is not None:
            found = self._latest_of(holder, reply)
            account_id, rule = holder, Rule.DEDICATED_NUMBER
        else:
            found = self._match(reply)
            account_id = found.account_id if found else None
            rule = Rule.NUMBER_AND_SENDER if found else Rule.NONE
        words = self.account_words(account_id) if account_id else frozenset()
        recorded = self.inbound.correlate(
            reply.reply_id,
            route=reply.route,
            account_id=account_id,
            message_id=found.message_id if found else None,
            send_id=found.send_id if found else None,
            rule=rule,
            stop=reply.text is not None and is_stop(reply.text, words),
            received_at=reply.received_at,
        )
        if recorded.stop and recorded.account_id is not None and reply.number is not None:
            actor = f"reply:{reply.reply_id}"
            self.opt_outs.opt_out(
                recorded.account_id, reply.number, actor=actor, source="reply", now=now
            )
        return recorded

    def _latest_of(self, account_id: UUID, reply: IncomingReply) -> Answered | None:
        """The account's most recent message to the handset from the dedicated number it
        replied to, however long ago."""
        if reply.number is None:
            return None
        hashes = {account_id: self.keys.lookup_hash(account_id, reply.number)}
        return self.messages.latest_to(hashes, sender_of(reply.recipient), EARLIEST,
                                       reply.received_at)  # fmt: skip

    def _match(self, reply: IncomingReply) -> Answered | None:
        if reply.number is None:  # erased before it was correlated
            return None
        sender = sender_of(reply.recipient)
        since = reply.received_at - self.window
        accounts = self.messages.accounts_sending_as(sender, since)
        if not accounts:
            return None
        hashes = {a: self.keys.lookup_hash(a, reply.number) for a in accounts}
        return self.messages.latest_to(hashes, sender, since, reply.received_at)
