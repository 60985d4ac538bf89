"""The sweeper closes reservations past their expiry and expires credit lots; figures "as of T"
from the journal equal a replay of the events recorded up to T."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from domain.ledger.reservation import reservation_id_for
from domain.messaging.send import SendState
from projections import ledger_queries
from tests.support.api import ApiHarness
from tests.support.ledger_model import all_events, figures_from_events
from workers.projections import messaging_runner


def test_the_sweeper_closes_expired_reservations_and_expires_lots(api: ApiHarness) -> None:
    customer = api.register()
    account = UUID(customer.account_id)
    api.topup(customer, net=100_000, reference="S-1")
    ledger = api.backend.ledger
    now = api.clock()
    send_id = uuid4()
    ledger.reserve(account, send_id=send_id, amount=7_900, parts=10, count=10, now=now,
                   expires_at=now + timedelta(hours=72))  # fmt: skip
    ledger.capture(reservation_id_for(send_id), [0, 1], [790, 790], [1, 1])
    api.catch_up()
    assert api.sweep(now + timedelta(hours=1)) == (0, 0)  # nothing due yet
    api.catch_up()
    closed, accounts = api.sweep(now + timedelta(hours=73))
    assert closed == 1
    assert ledger.reservation(reservation_id_for(send_id)).closed
    balance = api.balance(customer)
    assert balance["held"] == 0
    assert balance["spent"] == 1_580
    later = now + timedelta(days=200)  # package (6 months) and trial (90 days) expired
    closed, accounts = api.sweep(later)
    assert accounts == 1
    balance = api.balance(customer)
    assert balance["available"] == 0
    assert balance["expired"] == 100_000 + api.settings.trial_credit - 1_580


def test_figures_as_of_a_moment_equal_a_replay_of_the_events_recorded_until_then(
    api: ApiHarness,
) -> None:
    customer = api.register()
    account = UUID(customer.account_id)
    api.topup(customer, net=50_000, reference="A")
    ledger = api.backend.ledger
    now = api.clock()
    moments = []
    for n in range(3):
        send_id = uuid4()
        ledger.reserve(account, send_id=send_id, amount=1_580, parts=2, count=2, now=now,
                       expires_at=now + timedelta(hours=72))  # fmt: skip
        ledger.capture(reservation_id_for(send_id), [0], [790], [1])
        ledger.close_reservation(reservation_id_for(send_id), reason="done", now=now)
        time.sleep(0.01)
        moments.append(datetime.now(UTC))
        time.sleep(0.01)
        api.topup(customer, net=10_000 * (n + 1), reference=f"B{n}")
    api.catch_up()
    events = all_events(ledger)
    pool = api.backend.pool
    assert pool is not None
    for moment in moments:
        replayed, totals = figures_from_events([e for e in events if e.timestamp <= moment])
        from_journal = ledger_queries.balance_as_of(pool, account, moment)
        expected = replayed[account]
        assert from_journal.available == expected["available"]
        assert from_journal.spent == expected["spent"]
        assert from_journal.credited == expected["credited"]
        assert from_journal.held == expected["held"]
        trial = ledger_queries.trial_balance(pool, moment)
        assert {k: v for k, v in trial.items() if v} == {k: v for k, v in totals.items() if v}


def test_a_send_whose_reservation_expired_is_completed_by_the_sweeper(api: ApiHarness) -> None:
    customer, sent = api.send_single()
    send_id = UUID(sent["send_id"])
    messaging = api.backend.messaging
    assert messaging.send(send_id).state is SendState.RECORDED
    api.catch_up()
    # Never answered by a carrier (a carrier away for days): at expiry the credit goes back
    # and the send is done.
    closed, _ = api.sweep(api.clock() + timedelta(hours=73))
    assert closed == 1
    assert api.backend.ledger.reservation(reservation_id_for(send_id)).closed
    assert messaging.send(send_id).state is SendState.COMPLETED
    assert api.balance(customer)["held"] == 0


def test_a_send_left_incomplete_after_its_reservation_closed_is_completed(
    api: ApiHarness,
) -> None:
    """Settlement (or the sweeper) closed the reservation and died before completing the send:
    once the reservation's expiry has passed, the sweeper completes it."""
    _, sent = api.send_single()
    send_id = UUID(sent["send_id"])
    now = api.clock()
    api.backend.ledger.close_reservation(reservation_id_for(send_id), reason="done", now=now)
    api.catch_up()
    assert api.sweep(now + timedelta(hours=1)) == (0, 0)
    assert api.backend.messaging.send(send_id).state is SendState.RECORDED  # not expired yet
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    closed, _ = api.sweep(now + timedelta(hours=73))
    assert closed == 0  # closed before
    assert api.backend.messaging.send(send_id).state is SendState.COMPLETED
