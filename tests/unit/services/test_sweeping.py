"""The sweeper's round: expired reservations, expired credit, unconfirmed messages and
half-made registrations, from candidates a read model names (the aggregates decide)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.accounts.account import AccountKind
from domain.ledger.reservation import reservation_id_for
from domain.messaging.batches import DeliveryBatch
from domain.tariff import Tariff
from services.registration import NewApiKey, RegistrationForm, Registrations, Trial
from services.sweeping import Sweeper
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeCandidates, FakeRegistrationLog, OpenMessage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VALIDITY = timedelta(hours=72)


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


def customer(apps: MemoryApps) -> UUID:
    form = RegistrationForm(AccountKind.PERSON, "Anna", "anna@example.de", "anna", None,
                            Tariff.QUALITY)  # fmt: skip
    registrations = Registrations(apps.accounts, apps.ledger, Trial(10_000, timedelta(days=90)))
    return registrations.register(form, NewApiKey("kt", "p", "d"), NOW).account_id


def sweeper(apps: MemoryApps, candidates: FakeCandidates) -> Sweeper:
    registrations = Registrations(apps.accounts, apps.ledger, Trial(10_000, timedelta(days=90)))
    return Sweeper(apps.ledger, apps.messaging, candidates, registrations, FakeRegistrationLog(),
                   validity=VALIDITY)  # fmt: skip


def test_only_reservations_past_their_expiry_are_closed(apps: MemoryApps) -> None:
    account = customer(apps)
    send_id = uuid4()
    apps.ledger.reserve(account, send_id=send_id, amount=790, parts=1, count=1, now=NOW,
                        expires_at=NOW + VALIDITY)  # fmt: skip
    reservation = reservation_id_for(send_id)
    candidates = FakeCandidates(due=[reservation])  # a read model that names it too early
    assert sweeper(apps, candidates).sweep(NOW + timedelta(hours=1)).reservations == 0
    assert not apps.ledger.reservation(reservation).closed
    swept = sweeper(apps, candidates).sweep(NOW + VALIDITY + timedelta(seconds=1))
    assert swept.reservations == 1  # its send was never recorded: nothing else to complete
    assert apps.ledger.reservation(reservation).closed
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000


def test_expired_lots_move_to_expired_credit(apps: MemoryApps) -> None:
    account = customer(apps)
    later = NOW + timedelta(days=91)
    swept = sweeper(apps, FakeCandidates(lots=[account])).sweep(later)
    assert swept.accounts == 1
    wallet = apps.ledger.wallet(account)
    assert (wallet.available_at(later), wallet.expired) == (0, 10_000)


def test_messages_without_a_final_report_after_the_validity_become_unconfirmed(
    apps: MemoryApps,
) -> None:
    old = OpenMessage(uuid4(), uuid4(), uuid4())
    young = OpenMessage(uuid4(), uuid4(), uuid4())
    candidates = FakeCandidates(open=[(NOW, old), (NOW + timedelta(hours=71), young)])
    swept = sweeper(apps, candidates).sweep(NOW + VALIDITY + timedelta(minutes=1))
    assert swept.unconfirmed == 1
    (event,) = [
        e
        for n in apps.messaging.notification_log.select(start=1, limit=10)
        if isinstance(e := apps.messaging.mapper.to_domain_event(n), DeliveryBatch.Recorded)
    ]
    assert [(r.message_id, r.source, r.final) for r in event.reports] == [
        (old.message_id, "validity", False)
    ]
