"""Concurrent holds on one wallet are combined: fewer transactions than holds, never over the
credit, every hold answered with its own reservation or refusal."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from unittest import mock
from uuid import UUID, uuid4

import pytest

from domain.ledger.application import Hold, Ledger
from domain.ledger.exceptions import InsufficientCreditError, ReservationMismatchError
from domain.ledger.reservation import reservation_id_for
from services.reservations import ReservationBatcher
from tests.fakes.apps import MemoryApps, memory_apps
from tests.unit.pricing.factories import NOW
from tests.unit.services.test_acceptance import customer

PRICE = 790


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


def hold(send_id: UUID | None = None, amount: int = PRICE) -> Hold:
    return Hold(send_id or uuid4(), amount, 1, 1, NOW, NOW + timedelta(hours=72))


def test_one_batch_holds_each_send_or_gives_its_refusal(apps: MemoryApps) -> None:
    account = customer(apps, credit=2 * PRICE)
    first, second, third = hold(), hold(), hold()
    with mock.patch.object(apps.ledger, "save", wraps=apps.ledger.save) as save:
        results = apps.ledger.reserve_many(
            account, [first, second, hold(first.send_id), third, hold(second.send_id, 1)]
        )
    assert save.call_count == 1
    assert results[0] == results[2] == reservation_id_for(first.send_id)  # the same send again
    assert results[1] == reservation_id_for(second.send_id)
    assert isinstance(results[3], InsufficientCreditError)
    assert isinstance(results[4], ReservationMismatchError)
    assert apps.ledger.wallet(account).available_at(NOW) == 0
    again = apps.ledger.reserve_many(account, [hold(first.send_id)])
    assert again == [reservation_id_for(first.send_id)]  # idempotent across batches


def slowed(ledger: Ledger) -> mock._patch[mock.MagicMock]:
    """``reserve_many`` taking a database round trip's time, so that holds pile up."""
    original = ledger.reserve_many

    def reserve_many(account_id: UUID, holds: list[Hold]) -> list[UUID | Exception]:
        time.sleep(0.01)
        return list(original(account_id, holds))

    return mock.patch.object(ledger, "reserve_many", side_effect=reserve_many)


def hold_at_once(batcher: ReservationBatcher, account: UUID, count: int) -> list[object]:
    results: list[object] = [None] * count
    start = threading.Barrier(count)

    def one(n: int) -> None:
        start.wait()
        try:
            (results[n],) = batcher.reserve_many(account, [hold()])
        except Exception as exc:  # noqa: BLE001 - the test looks at each outcome
            results[n] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_holds_share_transactions_and_never_exceed_the_credit(
    apps: MemoryApps,
) -> None:
    account = customer(apps, credit=30 * PRICE)
    batcher = ReservationBatcher(apps.ledger)
    with slowed(apps.ledger):
        results = hold_at_once(batcher, account, 50)
    held = [r for r in results if isinstance(r, UUID)]
    refused = [r for r in results if isinstance(r, InsufficientCreditError)]
    assert (len(held), len(refused)) == (30, 20)
    assert len(set(held)) == 30
    assert batcher.batches < 25
    assert apps.ledger.wallet(account).available_at(NOW) == 0
    assert batcher.idle()  # nothing left waiting, nobody leading


def test_a_failed_transaction_fails_its_holds_and_the_next_batch_still_goes(
    apps: MemoryApps,
) -> None:
    account = customer(apps, credit=100 * PRICE)
    batcher = ReservationBatcher(apps.ledger)
    original = apps.ledger.reserve_many
    calls = 0

    def flaky(account_id: UUID, holds: list[Hold]) -> list[UUID | Exception]:
        nonlocal calls
        calls += 1
        time.sleep(0.01)
        if calls == 1:
            raise ConnectionError("the database went away")
        return list(original(account_id, holds))

    with mock.patch.object(apps.ledger, "reserve_many", side_effect=flaky):
        results = hold_at_once(batcher, account, 20)
    failed = [r for r in results if isinstance(r, ConnectionError)]
    held = [r for r in results if isinstance(r, UUID)]
    assert failed
    assert len(failed) + len(held) == 20
    assert apps.ledger.wallet(account).available_at(NOW) == (100 - len(held)) * PRICE
    assert batcher.idle()
