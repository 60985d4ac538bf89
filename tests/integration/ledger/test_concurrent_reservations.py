"""Many processes reserving against one balance: exactly as many succeed as it covers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from adapters.postgres.eventstore import event_store_env
from domain.ledger.application import Ledger
from domain.ledger.billing import Billing
from domain.ledger.exceptions import InsufficientCreditError, SendLimitExceededError
from domain.ledger.lots import PaymentMethod

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def test_exactly_the_covered_number_of_concurrent_reservations_succeed(database_url: str) -> None:
    apps = [Ledger(env=event_store_env(database_url)) for _ in range(4)]
    account = uuid4()
    apps[0].open_wallet(account, Billing.PREPAID)
    apps[0].purchase(
        account,
        net=12 * 790,
        vat=0,
        method=PaymentMethod.PAYPAL,
        reference="pp-1",
        package="12 SMS",
        actor="admin:test",
        now=NOW,
        expires_at=NOW + timedelta(days=180),
    )

    def attempt(n: int) -> UUID | None:
        app = apps[n % len(apps)]
        try:
            return app.reserve(
                account,
                send_id=uuid4(),
                amount=790,
                parts=1,
                count=1,
                now=NOW,
                expires_at=NOW + timedelta(hours=72),
            )
        except InsufficientCreditError:
            return None

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(attempt, range(60)))

    succeeded = [r for r in results if r is not None]
    assert len(succeeded) == 12
    assert len(set(succeeded)) == 12
    wallet = apps[1].wallet(account)
    assert wallet.available == 0
    held = sum(apps[2].reservation(r).amount for r in succeeded)
    assert held == 12 * 790
    for app in apps:
        app.close()


def test_a_postpaid_daily_limit_holds_under_concurrency(database_url: str) -> None:
    apps = [Ledger(env=event_store_env(database_url)) for _ in range(3)]
    account = uuid4()
    apps[0].open_wallet(account, Billing.POSTPAID)

    def attempt(n: int) -> bool:
        try:
            apps[n % 3].reserve(
                account,
                send_id=uuid4(),
                amount=1580,
                parts=2,
                count=1,
                now=NOW,
                expires_at=NOW + timedelta(hours=72),
                daily_limit=20,
                monthly_limit=1_000,
            )
        except SendLimitExceededError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(attempt, range(30)))
    assert results.count(True) == 10
    assert apps[0].wallet(account).usage.day_parts == 20
    for app in apps:
        app.close()
