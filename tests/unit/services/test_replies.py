"""Correlating replies: the most recent message to the handset from the sender it answered,
within the window, across the accounts that sent as that sender; STOP opts the handset out
of the matched account's list; a reply is recorded once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.inbound.application import Inbound
from domain.inbound.reply import Rule
from services.replies import IncomingReply, ReplyCorrelation, sender_of

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
PRAXIS = uuid4()


class Words(dict[UUID, frozenset[str]]):
    """Accounts' own STOP words (none unless given)."""

    def get(self, account_id: UUID) -> frozenset[str]:  # type: ignore[override]
        return super().get(account_id, frozenset())


WORDS = Words({PRAXIS: frozenset({"ende"})})
HANDSET = "+4915112345678"


@dataclass(frozen=True)
class Sent:
    account_id: UUID
    message_id: UUID
    send_id: UUID
    sender: str
    number_hash: str
    recorded_at: datetime


class Keys:
    def lookup_hash(self, account_id: UUID, value: str) -> str:
        return hashlib.sha256(account_id.bytes + value.encode()).hexdigest()


@dataclass
class Messages:
    """The read side's messages, as the correlation asks it."""

    sent: list[Sent] = field(default_factory=list)

    def send(self, account_id: UUID, sender: str, to: str, at: datetime) -> Sent:
        message = Sent(account_id, uuid4(), uuid4(), sender, Keys().lookup_hash(account_id, to),
                       at)  # fmt: skip
        self.sent.append(message)
        return message

    def accounts_sending_as(self, sender: str, since: datetime) -> list[UUID]:
        return sorted({m.account_id for m in self.sent if m.sender == sender and
                       m.recorded_at >= since}, key=str)  # fmt: skip

    def latest_to(
        self, number_hashes: dict[UUID, str], sender: str, since: datetime, until: datetime
    ) -> Sent | None:
        found = [m for m in self.sent if number_hashes.get(m.account_id) == m.number_hash
                 and m.sender == sender and since <= m.recorded_at <= until]  # fmt: skip
        return max(found, key=lambda m: m.recorded_at, default=None)


@dataclass
class OptOuts:
    done: list[tuple[UUID, str, str, str]] = field(default_factory=list)

    def opt_out(
        self, account_id: UUID, number: str, *, actor: str, source: str, now: datetime
    ) -> object:
        self.done.append((account_id, number, actor, source))
        return None


@pytest.fixture
def messages() -> Messages:
    return Messages()


@pytest.fixture
def opt_outs() -> OptOuts:
    return OptOuts()


@pytest.fixture
def correlation(messages: Messages, opt_outs: OptOuts) -> ReplyCorrelation:
    inbound = Inbound(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return ReplyCorrelation(inbound, messages, Keys(), opt_outs, WORDS.get,
                            window=timedelta(days=7))  # fmt: skip


def reply(text: str = "Ja, passt", to: str = "4917099999", at: datetime = NOW,
          number: str | None = HANDSET) -> IncomingReply:  # fmt: skip
    return IncomingReply(uuid4(), "smsc-1", number, to, text, at)


def test_a_reply_answers_the_most_recent_message_to_the_handset_from_that_sender(
    correlation: ReplyCorrelation, messages: Messages, opt_outs: OptOuts
) -> None:
    shop, other = uuid4(), uuid4()
    messages.send(shop, "4917099999", HANDSET, NOW - timedelta(days=2))
    latest = messages.send(shop, "4917099999", HANDSET, NOW - timedelta(hours=3))
    messages.send(other, "4917099999", "+4916011111111", NOW - timedelta(hours=1))  # elsewhere
    messages.send(other, "Kontor", HANDSET, NOW - timedelta(minutes=5))  # another sender
    recorded = correlation.correlate(reply(), NOW)
    assert (recorded.account_id, recorded.message_id, recorded.send_id) == (
        shop, latest.message_id, latest.send_id
    )  # fmt: skip
    assert recorded.rule is Rule.NUMBER_AND_SENDER
    assert not recorded.stop
    assert opt_outs.done == []


def test_across_accounts_the_most_recent_message_wins(
    correlation: ReplyCorrelation, messages: Messages
) -> None:
    first, second = uuid4(), uuid4()
    messages.send(first, "Praxis", HANDSET, NOW - timedelta(days=1))
    later = messages.send(second, "Praxis", HANDSET, NOW - timedelta(hours=1))
    assert correlation.correlate(reply(to="Praxis"), NOW).account_id == later.account_id


def test_a_reply_outside_the_window_or_to_an_unknown_sender_is_kept_unmatched(
    correlation: ReplyCorrelation, messages: Messages, opt_outs: OptOuts
) -> None:
    messages.send(uuid4(), "4917099999", HANDSET, NOW - timedelta(days=8))
    for unmatched in (reply(), reply(to="Niemand"), reply(number=None, text="STOP")):
        recorded = correlation.correlate(unmatched, NOW)
        assert (recorded.rule, recorded.account_id, recorded.message_id) == (Rule.NONE, None, None)
    assert opt_outs.done == []  # a STOP that matches no account opts out of none


def test_stop_puts_the_handset_on_the_matched_account_s_list_with_the_reply_as_source(
    correlation: ReplyCorrelation, messages: Messages, opt_outs: OptOuts
) -> None:
    shop = uuid4()
    messages.send(shop, "4917099999", HANDSET, NOW - timedelta(hours=1))
    stop = reply(text="Stopp bitte")
    recorded = correlation.correlate(stop, NOW)
    assert recorded.stop
    assert opt_outs.done == [(shop, HANDSET, f"reply:{stop.reply_id}", "reply")]


def test_a_reply_offered_again_is_recorded_once_as_first_correlated(
    correlation: ReplyCorrelation, messages: Messages, opt_outs: OptOuts
) -> None:
    shop = uuid4()
    first = messages.send(shop, "4917099999", HANDSET, NOW - timedelta(hours=2))
    stop = reply(text="STOP")
    correlation.correlate(stop, NOW)
    messages.send(shop, "4917099999", HANDSET, NOW - timedelta(minutes=1))  # a newer one since
    again = correlation.correlate(stop, NOW)  # a batch offered again after a crash
    assert again.message_id == first.message_id  # what was recorded first
    assert len(opt_outs.done) == 2  # done again, which changes nothing on the list
    assert len(list(correlation.inbound.repository.event_store.get(stop.reply_id))) == 1


@pytest.mark.parametrize(
    ("address", "sender"),
    [("+4917099999", "4917099999"), ("004917099999", "4917099999"), ("4917099999", "4917099999"),
     ("Kontor", "Kontor"), (" Praxis ", "Praxis")],
)  # fmt: skip
def test_the_address_replied_to_is_the_sender_as_sends_store_it(address: str, sender: str) -> None:
    assert sender_of(address) == sender


def test_an_account_s_own_stop_word_opts_out_of_that_account_alone(
    correlation: ReplyCorrelation, messages: Messages, opt_outs: OptOuts
) -> None:
    messages.send(PRAXIS, "Praxis", HANDSET, NOW - timedelta(hours=1))
    messages.send(uuid4(), "Shop", HANDSET, NOW - timedelta(hours=1))
    assert correlation.correlate(reply(text="Ende.", to="Praxis"), NOW).stop
    assert not correlation.correlate(reply(text="Ende.", to="Shop"), NOW).stop  # not its word
    assert [a for a, *_ in opt_outs.done] == [PRAXIS]


def test_a_reply_to_a_dedicated_number_belongs_to_its_holder_whatever_the_window(
    messages: Messages, opt_outs: OptOuts
) -> None:
    holder, other = uuid4(), uuid4()
    inbound = Inbound(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})

    def held(number: str) -> UUID | None:
        return holder if number == "4915790001" else None

    correlation = ReplyCorrelation(inbound, messages, Keys(), opt_outs, WORDS.get,
                                   window=timedelta(days=7), dedicated=held)  # fmt: skip
    old = messages.send(holder, "4915790001", HANDSET, NOW - timedelta(days=40))
    messages.send(other, "4915790001", HANDSET, NOW - timedelta(hours=1))  # not its number
    recorded = correlation.correlate(reply(to="+4915790001"), NOW)
    assert (recorded.account_id, recorded.message_id, recorded.rule) == (
        holder, old.message_id, Rule.DEDICATED_NUMBER,
    )  # fmt: skip
    unanswered = correlation.correlate(reply(to="4915790001", number="+4916000000000"), NOW)
    assert (unanswered.account_id, unanswered.message_id, unanswered.rule) == (
        holder, None, Rule.DEDICATED_NUMBER,
    )  # fmt: skip
    stop = correlation.correlate(reply("STOP", to="4915790001"), NOW)
    assert stop.stop
    assert opt_outs.done[-1][:2] == (holder, HANDSET)
