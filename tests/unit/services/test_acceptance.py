"""Accepting a send, with the applications in memory and fake staging and opt-outs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from uuid import UUID

import pytest

from domain.accounts.account import AccountKind
from domain.accounts.exceptions import SenderBlockedError
from domain.ledger.exceptions import CreditExpiresBeforeScheduleError, InsufficientCreditError
from domain.ledger.lots import LotSource
from domain.ledger.reservation import reservation_id_for
from domain.messaging.exceptions import (
    IdempotencyConflictError,
    NoRecipientsError,
    ScheduleInPastError,
    ScheduleTooFarError,
    TooManyRecipientsError,
)
from domain.messaging.records import Lane
from domain.messaging.send import Send, SendState, Skipped
from domain.pricing.preview import Recipient
from domain.tariff import Tariff
from services.acceptance import AcceptedSend, SendAcceptance, SendRequest
from services.registration import NewApiKey, RegistrationForm, Registrations, Trial
from tests.fakes import FakeClock, FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeStaging
from tests.unit.pricing.factories import NOW, preview_rules

MOBILE = "+4915112345678"
OTHER = "+4915187654321"


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


@pytest.fixture
def staging(apps: MemoryApps) -> FakeStaging:
    return FakeStaging(apps.keyring)


@pytest.fixture
def opt_outs() -> FakeOptOuts:
    return FakeOptOuts()


@pytest.fixture
def acceptance(
    apps: MemoryApps, staging: FakeStaging, opt_outs: FakeOptOuts
) -> Iterator[SendAcceptance]:
    service = SendAcceptance(
        accounts=apps.accounts,
        ledger=apps.ledger,
        messaging=apps.messaging,
        keys=apps.keyring,
        rules=preview_rules(),
        staging=staging,
        opt_outs=opt_outs,
        validity=timedelta(hours=72),
        month_volume=lambda account_id, now: 0,
    )
    yield service
    service.close()


def customer(apps: MemoryApps, credit: int = 10_000, username: str = "anna") -> UUID:
    registrations = Registrations(apps.accounts, apps.ledger, Trial(credit, timedelta(days=90)))
    form = RegistrationForm(AccountKind.PERSON, "Anna Müller", f"{username}@example.de", username,
                            None, Tariff.QUALITY)  # fmt: skip
    key = NewApiKey(f"kt_{username}", f"pfx-{username}", f"digest-{username}")
    return registrations.register(form, key, NOW).account_id


def single(
    account_id: UUID, *numbers: str, key: str | None = None, text: str = "Hallo"
) -> SendRequest:
    return SendRequest(
        account_id=account_id,
        lane=Lane.TRANSACTIONAL,
        text=text,
        sender="Kontor",
        recipients=[Recipient(n) for n in numbers],
        idempotency_key=key,
    )


def test_a_due_single_send_is_recorded_at_once_and_its_price_held(
    apps: MemoryApps, acceptance: SendAcceptance, staging: FakeStaging
) -> None:
    account = customer(apps)
    accepted = acceptance.accept(single(account, MOBILE), NOW)
    assert [m.price for m in accepted.messages] == [790]
    assert accepted.send.state is SendState.RECORDED
    assert len(accepted.recorded_chunks) == 1
    assert staging.sends == {}  # nothing for the expander
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 790
    assert apps.ledger.reservation(reservation_id_for(accepted.send.id)).amount == 790


def test_a_campaign_is_staged_for_the_expander_not_recorded(
    apps: MemoryApps, acceptance: SendAcceptance, staging: FakeStaging
) -> None:
    account = customer(apps)
    request = SendRequest(account, Lane.BULK, "Angebot", "Kontor",
                          [Recipient(MOBILE), Recipient(OTHER)], name="März")  # fmt: skip
    accepted = acceptance.accept(request, NOW)
    assert accepted.recorded_chunks == ()
    assert accepted.send.state is SendState.SENDING
    assert [m.index for m in staging.sends[accepted.send.id]] == [0, 1]


def test_opted_out_and_invalid_numbers_are_skipped_and_reported(
    apps: MemoryApps, acceptance: SendAcceptance, opt_outs: FakeOptOuts
) -> None:
    account = customer(apps)
    opt_outs.opt_out(account, apps.keyring.lookup_hash(account, OTHER))
    accepted = acceptance.accept(single(account, MOBILE, OTHER, "12"), NOW)
    assert len(accepted.messages) == 1
    assert sorted((s.position, s.reason) for s in accepted.skipped) == [
        (1, "opted_out"),
        (2, "invalid-number"),
    ]
    assert accepted.send.skipped == (Skipped("invalid-number", 1), Skipped("opted_out", 1))


def test_a_send_to_nobody_it_may_reach_records_nothing(
    apps: MemoryApps, acceptance: SendAcceptance, opt_outs: FakeOptOuts
) -> None:
    account = customer(apps)
    opt_outs.opt_out(account, apps.keyring.lookup_hash(account, MOBILE))
    with pytest.raises(NoRecipientsError):
        acceptance.accept(single(account, MOBILE), NOW)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000


def test_a_blocked_sender_is_refused_before_anything_is_reserved(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    apps.accounts.administer(account, actor="admin:x", blocked_senders=frozenset({"Kontor"}))
    with pytest.raises(SenderBlockedError):
        acceptance.accept(single(account, MOBILE), NOW)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000


def test_a_send_beyond_the_credit_is_refused_with_nothing_recorded(
    apps: MemoryApps, acceptance: SendAcceptance, staging: FakeStaging
) -> None:
    account = customer(apps, credit=1_000)
    with pytest.raises(InsufficientCreditError) as refused:
        acceptance.accept(single(account, MOBILE, OTHER), NOW)
    assert refused.value.shortfall == 2 * 790 - 1_000
    assert staging.sends == {}


def test_a_repeated_idempotency_key_returns_the_first_send_and_charges_once(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    first = acceptance.accept(single(account, MOBILE, key="order-1"), NOW)
    again = acceptance.accept(single(account, MOBILE, key="order-1"), NOW)
    assert again.repeated
    assert again.send.id == first.send.id
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 790
    with pytest.raises(IdempotencyConflictError):
        acceptance.accept(single(account, OTHER, key="order-1"), NOW)


def test_a_scheduled_send_holds_its_credit_until_its_time_plus_the_validity(
    apps: MemoryApps, acceptance: SendAcceptance, staging: FakeStaging
) -> None:
    account = customer(apps)
    at = FakeClock(NOW)
    at.advance(timedelta(days=1))
    request = SendRequest(account, Lane.TRANSACTIONAL, "Morgen", "Kontor", [Recipient(MOBILE)],
                          schedule_at=at())  # fmt: skip
    accepted = acceptance.accept(request, NOW)
    assert accepted.send.state is SendState.SCHEDULED
    assert accepted.send.expires_at == at() + timedelta(hours=72)
    assert len(staging.sends[accepted.send.id]) == 1
    shown = [
        e for e in apps.messaging.events.get(accepted.send.id)
        if isinstance(e, Send.MessagesScheduled)
    ]  # fmt: skip
    assert [m.message_id for m in shown[0].messages] == [accepted.messages[0].message_id]


def test_a_single_send_to_more_than_its_limit_is_refused_before_anything_else(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    numbers = [f"+49151{n:08d}" for n in range(acceptance.single_send_max_recipients + 1)]
    with pytest.raises(TooManyRecipientsError) as refused:
        acceptance.accept(single(account, *numbers), NOW)
    assert (refused.value.count, refused.value.limit) == (51, 50)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000


def test_a_number_given_twice_gets_the_message_once_unless_repeats_are_kept(
    apps: MemoryApps, acceptance: SendAcceptance, staging: FakeStaging
) -> None:
    account = customer(apps)
    numbers = [Recipient(MOBILE), Recipient("0151 12345678"), Recipient(OTHER)]  # 0 and 1 alike
    once = acceptance.accept(SendRequest(account, Lane.BULK, "Angebot", "Kontor", numbers), NOW)
    assert once.send.total == 2
    assert [(s.position, s.reason) for s in once.skipped] == [(1, "repeated")]
    assert once.send.skipped == (Skipped("repeated", 1),)
    kept = acceptance.accept(
        SendRequest(account, Lane.BULK, "Angebot", "Kontor", numbers, keep_repeats=True), NOW
    )
    assert kept.send.total == 3
    assert kept.skipped == []
    assert kept.send.fingerprint != once.send.fingerprint
    keys = {m.number.key_id for m in staging.sends[kept.send.id][:2]}
    assert len(keys) == 1  # one person, one data key


def scheduled(account: UUID, at: datetime) -> SendRequest:
    return SendRequest(account, Lane.TRANSACTIONAL, "Termin", "Kontor", [Recipient(MOBILE)],
                       schedule_at=at)  # fmt: skip


def test_a_send_at_minutes_in_the_past_goes_now_and_further_back_is_refused(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    late = acceptance.accept(scheduled(account, NOW - timedelta(minutes=4)), NOW)
    assert late.send.state is SendState.RECORDED  # sent at once
    with pytest.raises(ScheduleInPastError) as refused:
        acceptance.accept(scheduled(account, NOW - timedelta(minutes=6)), NOW)
    assert refused.value.grace_seconds == 300
    assert "in the past" in str(refused.value)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 790  # nothing more held


def test_a_send_beyond_the_horizon_is_refused(apps: MemoryApps, acceptance: SendAcceptance) -> None:
    account = customer(apps)
    apps.ledger.grant(account, source=LotSource.GOODWILL, amount=10_000, reference="g",
                      reason="", actor="op", now=NOW, expires_at=None)  # fmt: skip
    with pytest.raises(ScheduleTooFarError) as refused:
        acceptance.accept(scheduled(account, NOW + timedelta(days=366)), NOW)
    assert refused.value.latest == (NOW + timedelta(days=365)).isoformat()
    assert acceptance.accept(scheduled(account, NOW + timedelta(days=364)), NOW).send.schedule_at


def test_a_prepaid_send_is_not_scheduled_after_its_credit_expires(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)  # trial credit, valid 90 days
    with pytest.raises(CreditExpiresBeforeScheduleError) as refused:
        acceptance.accept(scheduled(account, NOW + timedelta(days=91)), NOW)
    assert (refused.value.required, refused.value.valid_then) == (790, 0)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000  # nothing held
    valid = NOW + timedelta(days=180)
    apps.ledger.grant(account, source=LotSource.GOODWILL, amount=790, reference="g",
                      reason="", actor="op", now=NOW, expires_at=valid)  # fmt: skip
    later = acceptance.accept(scheduled(account, NOW + timedelta(days=91)), NOW)
    reservation = apps.ledger.reservation(reservation_id_for(later.send.id))
    wallet = apps.ledger.wallet(account)
    assert [wallet.lots[s.lot_id].expires_at for s in reservation.held] == [
        NOW + timedelta(days=180)  # held from the credit still valid then, not the trial
    ]


# -- single sends in batches ---------------------------------------------------------------
# Concurrent single sends are accepted in batches: one account read, one opt-out lookup, one
# hold transaction per wallet and one recording for the whole batch; each request still gets
# its own answer or refusal, never over the credit, a repeated Idempotency-Key answered as a
# repeat.

SINGLE_PRICE = 790


def numbered(n: int) -> str:
    return f"+49151{n:08d}"


def test_a_batch_answers_each_request_with_its_own_send_or_refusal(
    apps: MemoryApps, acceptance: SendAcceptance, opt_outs: FakeOptOuts
) -> None:
    rich, poor = (
        customer(apps, credit=10 * SINGLE_PRICE),
        customer(apps, credit=SINGLE_PRICE, username="bert"),
    )
    opt_outs.opt_out(rich, apps.keyring.lookup_hash(rich, MOBILE))
    apps.accounts.administer(rich, actor="admin:x", blocked_senders=frozenset({"Kontor2"}))
    requests = [
        single(rich, OTHER),
        single(rich, MOBILE),  # opted out: nothing to send
        single(poor, OTHER),
        single(poor, MOBILE),  # over the credit
        SendRequest(rich, Lane.TRANSACTIONAL, "Hallo", "Kontor2", [Recipient(OTHER)]),
        single(rich, MOBILE, OTHER),  # the opted-out one skipped, the other sent
    ]
    with mock.patch.object(apps.messaging, "save", wraps=apps.messaging.save) as save:
        results = acceptance.accept_many([(r, NOW) for r in requests])
    assert save.call_count == 1  # every send recorded in one transaction
    sent = [r for r in results if isinstance(r, AcceptedSend)]
    assert [type(r) for r in results] == [
        AcceptedSend,
        NoRecipientsError,
        AcceptedSend,
        InsufficientCreditError,
        SenderBlockedError,
        AcceptedSend,
    ]
    assert all(len(s.recorded_chunks) == 1 and len(s.messages) == 1 for s in sent)
    assert [x.reason for x in sent[2].skipped] == ["opted_out"]
    assert len({s.send.id for s in sent}) == 3
    assert apps.ledger.wallet(rich).available_at(NOW) == 8 * SINGLE_PRICE
    assert apps.ledger.wallet(poor).available_at(NOW) == 0
    for s in sent:
        assert apps.messaging.send(s.send.id).total == 1


def test_the_same_idempotency_key_twice_in_a_batch_is_one_send(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    first, again = single(account, MOBILE, key="otp-1"), single(account, MOBILE, key="otp-1")
    other = single(account, OTHER, key="otp-1")  # the key, for another request
    results = acceptance.accept_many([(first, NOW), (again, NOW), (other, NOW)])
    one, two, three = results
    assert isinstance(one, AcceptedSend)
    assert isinstance(two, AcceptedSend)
    assert one.send.id == two.send.id
    assert not one.repeated
    assert two.repeated
    assert isinstance(three, IdempotencyConflictError)
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - SINGLE_PRICE  # held once


def slowed(method: Callable[..., Any]) -> Callable[..., Any]:
    """The batch taking a database round trip's time, so that requests pile up."""

    def slow(*args: Any) -> Any:
        time.sleep(0.01)
        return method(*args)

    return slow


def test_concurrent_single_sends_share_batches_and_never_exceed_the_credit(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps, credit=30 * SINGLE_PRICE)
    results: list[object] = [None] * 50
    start = threading.Barrier(50)

    def one(n: int) -> None:
        start.wait()
        try:
            results[n] = acceptance.accept(single(account, numbered(n)), NOW)
        except Exception as exc:  # noqa: BLE001 - the test looks at each outcome
            results[n] = exc

    with mock.patch.object(acceptance.singles, "run", slowed(acceptance.singles.run)):
        threads = [threading.Thread(target=one, args=(n,)) for n in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    sent = [r for r in results if isinstance(r, AcceptedSend)]
    refused = [r for r in results if isinstance(r, InsufficientCreditError)]
    assert (len(sent), len(refused)) == (30, 20)
    assert len({s.send.id for s in sent}) == 30
    assert acceptance.singles.batches < 25
    assert acceptance.singles.idle()
    assert apps.ledger.wallet(account).available_at(NOW) == 0


def test_a_failing_recording_fails_its_batch_and_the_next_batch_goes(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    batch = [(single(account, MOBILE, key="a"), NOW), (single(account, OTHER), NOW)]
    with (
        mock.patch.object(apps.messaging, "accept_many", side_effect=ConnectionError("gone")),
        pytest.raises(ConnectionError),
    ):
        acceptance.accept_many(batch)
    again = acceptance.accept(single(account, MOBILE, key="a"), NOW)
    assert isinstance(again, AcceptedSend)
    assert not again.repeated
    assert apps.ledger.wallet(account).available_at(NOW) < 10_000
