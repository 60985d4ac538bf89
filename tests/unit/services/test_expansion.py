"""Expansion: a due campaign's staged recipients are recorded chunk by chunk, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from domain.accounts.account import AccountKind
from domain.messaging.batches import MessageChunk, chunk_id
from domain.messaging.records import Lane
from domain.messaging.send import SendState
from domain.pricing.preview import Recipient
from domain.tariff import Tariff
from services.acceptance import SendAcceptance, SendRequest
from services.expansion import Expander
from services.registration import NewApiKey, RegistrationForm, Registrations, Trial
from tests.fakes import FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeDueSends, FakeStaging
from tests.unit.pricing.factories import preview_rules

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


@pytest.fixture
def staging(apps: MemoryApps) -> FakeStaging:
    return FakeStaging(apps.keyring)


def campaign(apps: MemoryApps, staging: FakeStaging, size: int, **extra: object) -> UUID:
    form = RegistrationForm(AccountKind.PERSON, "Anna", "anna@example.de", "anna", None,
                            Tariff.QUALITY)  # fmt: skip
    registrations = Registrations(apps.accounts, apps.ledger, Trial(10**9, timedelta(days=90)))
    account = registrations.register(form, NewApiKey("kt", "p", "d"), NOW).account_id
    acceptance = SendAcceptance(
        accounts=apps.accounts, ledger=apps.ledger, messaging=apps.messaging, keys=apps.keyring,
        rules=preview_rules(), staging=staging, opt_outs=FakeOptOuts(),
        validity=timedelta(hours=72), month_volume=lambda a, n: 0,
    )  # fmt: skip
    numbers = [Recipient(f"+49151{n:08d}") for n in range(size)]
    try:
        request = SendRequest(account, Lane.BULK, "Angebot", "Kontor", numbers, **extra)  # type: ignore[arg-type]
        return acceptance.accept(request, NOW).send.id
    finally:
        acceptance.close()


def recorded(apps: MemoryApps, send_id: UUID) -> list[int]:
    send = apps.messaging.send(send_id)
    events = [
        e
        for n in range(send.chunks)
        for e in apps.messaging.events.get(chunk_id(send_id, n))
        if isinstance(e, MessageChunk.Recorded)
    ]
    assert len(events) == send.chunks
    return [m.index for e in events for m in e.messages]


def test_a_campaign_is_recorded_chunk_by_chunk_then_its_staging_discarded(
    apps: MemoryApps, staging: FakeStaging
) -> None:
    send_id = campaign(apps, staging, 1_200)
    due = FakeDueSends()
    due.sends.append(send_id)
    expander = Expander(apps.messaging, due, staging)
    assert [expander.expand_round(NOW) for _ in range(4)] == [500, 500, 200, 0]
    assert recorded(apps, send_id) == list(range(1_200))
    assert apps.messaging.send(send_id).state is SendState.RECORDED
    assert staging.discarded == [send_id]


def test_a_second_expander_with_the_same_send_records_nothing_twice(
    apps: MemoryApps, staging: FakeStaging
) -> None:
    send_id = campaign(apps, staging, 600)
    due = FakeDueSends()
    due.sends.append(send_id)
    first = Expander(apps.messaging, due, staging)
    stale = apps.messaging.send(send_id)  # loaded by the other expander before the first wrote
    first.expand_round(NOW)
    with pytest.raises(IntegrityError):
        apps.messaging.record_chunk(stale, staging.sealed_chunk(send_id, 0, 500))
    first.expand_round(NOW)
    assert recorded(apps, send_id) == list(range(600))


def test_a_scheduled_campaign_waits_for_its_time(apps: MemoryApps, staging: FakeStaging) -> None:
    send_id = campaign(apps, staging, 10, schedule_at=NOW + timedelta(hours=1))
    due = FakeDueSends()
    due.sends.append(send_id)  # a stale read model may name it early: the send decides
    expander = Expander(apps.messaging, due, staging)
    assert expander.expand_round(NOW) == 0
    assert expander.expand_round(NOW + timedelta(hours=1)) == 10


def test_a_cancelled_campaign_records_no_further_chunk(
    apps: MemoryApps, staging: FakeStaging
) -> None:
    send_id = campaign(apps, staging, 700)
    due = FakeDueSends()
    due.sends.append(send_id)
    expander = Expander(apps.messaging, due, staging)
    assert expander.expand_round(NOW) == 500
    apps.messaging.cancel(send_id, None, "customer", "stop")
    assert expander.expand_round(NOW) == 0
    assert recorded(apps, send_id) == list(range(500))
