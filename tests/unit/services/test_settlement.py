"""Settlement: carrier results become captures and releases; finished sends complete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.accounts.account import AccountKind
from domain.ledger.reservation import reservation_id_for
from domain.messaging.batches import CarrierReport
from domain.messaging.records import Lane, SubmitOutcome, SubmitResult
from domain.messaging.send import Send, SendState
from domain.pricing.preview import Recipient
from domain.tariff import Tariff
from services.acceptance import SendAcceptance, SendRequest
from services.registration import NewApiKey, RegistrationForm, Registrations, Trial
from services.settlement import RELEASED, Settlement, plan
from tests.fakes import FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeStaging
from tests.unit.pricing.factories import preview_rules

NOW = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
NUMBERS = ["+4915112345670", "+4915112345671", "+4915112345672"]


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


def accepted_single_send(apps: MemoryApps) -> tuple[UUID, list[UUID]]:
    """A recorded send of three messages, 790 each."""
    form = RegistrationForm(AccountKind.PERSON, "Anna", "anna@example.de", "anna", None,
                            Tariff.QUALITY)  # fmt: skip
    registrations = Registrations(apps.accounts, apps.ledger, Trial(10_000, timedelta(days=90)))
    account = registrations.register(form, NewApiKey("kt", "p", "d"), NOW).account_id
    acceptance = SendAcceptance(
        accounts=apps.accounts, ledger=apps.ledger, messaging=apps.messaging, keys=apps.keyring,
        rules=preview_rules(), staging=FakeStaging(apps.keyring), opt_outs=FakeOptOuts(),
        validity=timedelta(hours=72), month_volume=lambda a, n: 0,
    )  # fmt: skip
    try:
        request = SendRequest(account, Lane.TRANSACTIONAL, "Hallo", "Kontor",
                              [Recipient(n) for n in NUMBERS])  # fmt: skip
        accepted = acceptance.accept(request, NOW)
    finally:
        acceptance.close()
    return accepted.send.id, [m.message_id for m in accepted.messages]


def report(
    send_id: UUID, account_id: UUID, outcomes: list[tuple[int, UUID, SubmitOutcome]]
) -> CarrierReport.Recorded:
    report = CarrierReport(
        route="sim",
        results=tuple(
            SubmitResult(
                message_id=message_id,
                send_id=send_id,
                account_id=account_id,
                index=index,
                parts=1,
                price=790,
                outcome=outcome,
                carrier_ids=("c1",) if outcome is SubmitOutcome.ACCEPTED else (),
                command_status=0,
                attempt=1,
                route="sim",
                at=NOW,
            )
            for index, message_id, outcome in outcomes
        ),
    )
    (event,) = report.collect_events()
    assert isinstance(event, CarrierReport.Recorded)
    return event


def test_the_plan_groups_captures_and_releases_by_send_and_reason() -> None:
    send_a, send_b, account = uuid4(), uuid4(), uuid4()
    events = [
        report(send_a, account, [(0, uuid4(), SubmitOutcome.ACCEPTED),
                                 (1, uuid4(), SubmitOutcome.REJECTED),
                                 (2, uuid4(), SubmitOutcome.UNCERTAIN)]),
        report(send_b, account, [(0, uuid4(), SubmitOutcome.CANCELLED),
                                 (1, uuid4(), SubmitOutcome.EXPIRED)]),
    ]  # fmt: skip
    todo = plan(events)
    assert todo.captures == {send_a: {0: (790, 1)}}
    assert todo.releases == {
        (send_a, RELEASED[SubmitOutcome.REJECTED]): {1: (790, 1)},
        (send_b, RELEASED[SubmitOutcome.CANCELLED]): {0: (790, 1)},
        (send_b, RELEASED[SubmitOutcome.EXPIRED]): {1: (790, 1)},
    }
    assert todo.touched == {send_a, send_b}  # uncertain ones wait: nothing planned for index 2


def test_a_send_whose_messages_are_all_settled_closes_and_completes(apps: MemoryApps) -> None:
    send_id, ids = accepted_single_send(apps)
    account = apps.messaging.send(send_id).account_id
    staging = FakeStaging(apps.keyring)
    settlement = Settlement(apps.ledger, apps.messaging, staging)
    first = report(send_id, account, [(0, ids[0], SubmitOutcome.ACCEPTED),
                                      (1, ids[1], SubmitOutcome.UNCERTAIN)])  # fmt: skip
    settlement.settle([first], NOW)
    reservation = apps.ledger.reservation(reservation_id_for(send_id))
    assert (reservation.captured, reservation.closed) == (790, False)
    assert apps.messaging.send(send_id).state is SendState.RECORDED  # two still open
    rest = report(send_id, account, [(1, ids[1], SubmitOutcome.ACCEPTED),
                                     (2, ids[2], SubmitOutcome.REJECTED)])  # fmt: skip
    settlement.settle([rest], NOW)
    settlement.settle([first, rest], NOW)  # a batch settled again after a crash
    reservation = apps.ledger.reservation(reservation_id_for(send_id))
    assert (reservation.captured, reservation.released, reservation.closed) == (1_580, 790, True)
    assert apps.messaging.send(send_id).state is SendState.COMPLETED
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 1_580


def test_a_cancelled_sends_staged_recipients_are_discarded(apps: MemoryApps) -> None:
    send_id, _ = accepted_single_send(apps)
    staging = FakeStaging(apps.keyring)
    apps.messaging.cancel(send_id, None, "customer", "changed my mind")
    (event,) = [e for e in apps.messaging.events.get(send_id) if isinstance(e, Send.Cancelled)]
    todo = plan([event])
    assert todo.cancelled == {send_id}
    assert todo.touched == {send_id}
    Settlement(apps.ledger, apps.messaging, staging).settle([event], NOW)
    assert staging.discarded == [send_id]
