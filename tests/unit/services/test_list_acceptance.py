"""Accepting a list campaign in the background, chunk by chunk, with the applications in memory
and fake lists, staging and job store."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from unittest import mock
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from domain.contacts.exceptions import ListImportingError, ListNotFoundError
from domain.ids import message_id
from domain.ledger.reservation import reservation_id_for
from domain.messaging.exceptions import (
    IdempotencyConflictError,
    NoRecipientsError,
    SendNotCancellableError,
    SendNotFoundError,
)
from domain.messaging.list_acceptance import AcceptanceJob, JobState
from domain.messaging.records import Lane
from domain.messaging.send import SendState, Skipped
from domain.text.exceptions import InvalidSenderError, TemplateSyntaxError
from services.acceptance import SendAcceptance, SendRequest
from services.list_acceptance import ListAcceptance
from tests.fakes import FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeAcceptanceJobs, FakeLists, FakeStaging
from tests.unit.pricing.factories import NOW, preview_rules
from tests.unit.services.test_acceptance import customer

PRICE = 790
"""One part to a German mobile number on the quality tariff."""


def numbers(count: int) -> list[str]:
    return [f"+491511{n:07d}" for n in range(count)]


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
def lists() -> FakeLists:
    return FakeLists()


@pytest.fixture
def jobs(staging: FakeStaging) -> FakeAcceptanceJobs:
    return FakeAcceptanceJobs(staging)


@pytest.fixture
def service(
    apps: MemoryApps,
    staging: FakeStaging,
    opt_outs: FakeOptOuts,
    jobs: FakeAcceptanceJobs,
    lists: FakeLists,
) -> Iterator[ListAcceptance]:
    acceptance = SendAcceptance(
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
    yield ListAcceptance(acceptance, jobs, lists, chunk_size=3)
    acceptance.close()


def campaign(
    account_id: UUID, list_id: UUID, *, key: str | None = None, text: str = "Hallo {vorname}"
) -> SendRequest:
    return SendRequest(
        account_id=account_id,
        lane=Lane.BULK,
        text=text,
        sender="Kontor",
        recipients=(),
        list_id=list_id,
        idempotency_key=key,
        name="Dezember",
    )


def started(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    size: int,
    name: str,
    credit: int = 10_000,
) -> tuple[UUID, UUID, AcceptanceJob]:
    """A customer with ``credit``, a list of ``size`` numbers with their ``vorname`` and the
    campaign to it just begun: account, list and job."""
    account, list_id = customer(apps, credit=credit), uuid4()
    lists.add(account, list_id, numbers(size), vorname=name)
    job = service.begin(campaign(account, list_id), NOW).job
    assert job is not None
    return account, list_id, job


def run_to_end(service: ListAcceptance, rounds: int = 100) -> int:
    for done in range(rounds):
        if not service.advance(NOW):
            return done
    raise AssertionError("the job never ended")


def test_a_list_campaign_is_answered_with_a_job_and_accepted_chunk_by_chunk(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    jobs: FakeAcceptanceJobs,
    staging: FakeStaging,
) -> None:
    account, _list_id, begun = started(apps, service, lists, 10, "Anna")
    assert (begun.state, begun.list_size, begun.staged) == (JobState.ACCEPTING, 10, 0)
    with pytest.raises(AggregateNotFoundError):  # nothing reserved before the list is priced
        apps.ledger.reservation(reservation_id_for(begun.send_id))

    run_to_end(service)

    send_id = begun.send_id
    job = jobs.get(send_id)
    assert job is not None
    assert (job.state, job.read, job.staged, job.expected) == (
        JobState.ACCEPTED,
        10,
        10,
        10 * PRICE,
    )
    assert jobs.chunk_sizes == [3, 3, 3, 1]  # memory bounded by the chunk
    staged = staging.sends[send_id]
    assert [m.index for m in staged] == list(range(10))
    assert [m.message_id for m in staged] == [message_id(send_id, i) for i in range(10)]
    assert {m.text.value for m in staged} == {"Hallo Anna"}
    send = apps.messaging.send(send_id)
    assert (send.state, send.total, send.expected_cost, send.lane) == (
        SendState.SENDING, 10, 10 * PRICE, Lane.BULK
    )  # fmt: skip
    assert apps.ledger.reservation(reservation_id_for(send_id)).amount == 10 * PRICE
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 10 * PRICE


def test_opted_out_numbers_are_skipped_and_counted_across_chunks(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    opt_outs: FakeOptOuts,
    staging: FakeStaging,
) -> None:
    account, list_id = customer(apps), uuid4()
    listed = numbers(7)
    lists.add(account, list_id, listed, vorname="Ben")
    for number in (listed[1], listed[5]):
        opt_outs.opt_out(account, apps.keyring.lookup_hash(account, number))
    begun = service.begin(campaign(account, list_id), NOW).job
    assert begun is not None
    run_to_end(service)
    send = apps.messaging.send(begun.send_id)
    assert (send.total, send.skipped) == (5, (Skipped("opted_out", 2),))
    staged = staging.sends[send.id]
    assert [m.index for m in staged] == list(range(5))  # numbered without gaps
    assert [m.number.value for m in staged] == [n for i, n in enumerate(listed) if i not in {1, 5}]


def test_a_campaign_beyond_the_credit_is_refused_on_the_job_with_nothing_held_or_staged(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    jobs: FakeAcceptanceJobs,
    staging: FakeStaging,
) -> None:
    account, _list_id, begun = started(apps, service, lists, 8, "Cem", credit=5 * PRICE)
    run_to_end(service)
    job = jobs.get(begun.send_id)
    assert job is not None
    assert job.refusal is not None
    assert job.state is JobState.REFUSED
    assert job.refusal.error == "InsufficientCreditError"
    assert job.refusal.attributes["shortfall"] == 3 * PRICE
    assert begun.send_id not in staging.sends
    assert apps.ledger.wallet(account).available_at(NOW) == 5 * PRICE
    with pytest.raises(SendNotFoundError):
        apps.messaging.send(begun.send_id)


def test_a_crash_in_the_middle_of_the_list_resumes_after_the_last_saved_chunk(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    staging: FakeStaging,
) -> None:
    _account, _list_id, begun = started(apps, service, lists, 10, "Dana")
    lists.fail_at = lists.reads + 3  # the third chunk's read fails
    with pytest.raises(ConnectionError):
        run_to_end(service)
    run_to_end(service)  # the worker's next rounds
    staged = staging.sends[begun.send_id]
    assert [m.index for m in staged] == list(range(10))
    assert len({m.number.value for m in staged}) == 10
    assert apps.messaging.send(begun.send_id).total == 10


def test_a_crash_between_reserving_and_recording_is_finished_by_the_next_round(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists, jobs: FakeAcceptanceJobs
) -> None:
    account, _list_id, begun = started(apps, service, lists, 4, "Eva")
    with (
        mock.patch.object(apps.messaging, "accept", side_effect=ConnectionError("gone")),
        pytest.raises(ConnectionError),
    ):
        run_to_end(service)
    job = jobs.get(begun.send_id)
    assert job is not None
    assert job.state is JobState.RESERVING
    run_to_end(service)
    assert apps.messaging.send(begun.send_id).total == 4
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 4 * PRICE  # held once


def test_a_stale_copy_of_a_job_stages_nothing(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    jobs: FakeAcceptanceJobs,
    staging: FakeStaging,
) -> None:
    _account, _list_id, begun = started(apps, service, lists, 5, "Finn")
    stale = begun
    service.advance(NOW)  # the first chunk, by one worker
    later = jobs.get(stale.send_id)
    # A second worker that read the job before that chunk was saved prices the same chunk.
    with mock.patch.object(jobs, "get", return_value=stale):
        assert service.advance(NOW) == 0
    assert jobs.get(stale.send_id) == later
    assert [m.index for m in staging.sends[stale.send_id]] == [0, 1, 2]


def test_a_campaign_is_cancelled_while_it_is_accepted_and_never_reserved(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    jobs: FakeAcceptanceJobs,
    staging: FakeStaging,
) -> None:
    account, _list_id, begun = started(apps, service, lists, 9, "Gül")
    service.advance(NOW)
    with pytest.raises(SendNotFoundError):  # another account's
        service.cancel(begun.send_id, uuid4())
    cancelled = service.cancel(begun.send_id, account)
    assert cancelled.state is JobState.CANCELLED
    assert begun.send_id not in staging.sends
    assert run_to_end(service) == 0
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000
    with pytest.raises(SendNotCancellableError):
        service.cancel(begun.send_id, account)


def test_a_reserving_job_is_not_cancelled_as_a_job(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists, jobs: FakeAcceptanceJobs
) -> None:
    account, _list_id, begun = started(apps, service, lists, 2, "Hans")
    job = replace(begun, state=JobState.RESERVING)
    jobs.jobs[job.send_id] = job
    with pytest.raises(SendNotCancellableError):
        service.cancel(job.send_id, account)


def test_a_repeated_idempotency_key_returns_the_job_and_another_request_is_refused(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists
) -> None:
    account, list_id = customer(apps), uuid4()
    lists.add(account, list_id, numbers(4), vorname="Ida")
    first = service.begin(campaign(account, list_id, key="dez-1"), NOW)
    again = service.begin(campaign(account, list_id, key="dez-1"), NOW)
    assert again.repeated
    assert not first.repeated
    assert again.job == first.job
    with pytest.raises(IdempotencyConflictError):
        service.begin(campaign(account, list_id, key="dez-1", text="Anders"), NOW)
    run_to_end(service)
    accepted = service.begin(campaign(account, list_id, key="dez-1"), NOW)
    assert accepted.repeated
    assert accepted.send is not None
    assert accepted.send.total == 4
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000 - 4 * PRICE


def test_what_can_be_checked_at_once_is_refused_at_once(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists, jobs: FakeAcceptanceJobs
) -> None:
    account, list_id = customer(apps), uuid4()
    lists.add(account, list_id, numbers(3), vorname="Jan")
    with pytest.raises(TemplateSyntaxError):
        service.begin(campaign(account, list_id, text="Hallo {vorname"), NOW)
    with pytest.raises(ListNotFoundError):
        service.begin(campaign(account, uuid4()), NOW)
    lists.importing.add(list_id)
    with pytest.raises(ListImportingError):
        service.begin(campaign(account, list_id), NOW)
    assert jobs.jobs == {}


def test_an_account_closed_during_the_acceptance_ends_the_job_refused(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists, jobs: FakeAcceptanceJobs
) -> None:
    account, _list_id, begun = started(apps, service, lists, 6, "Kai")
    service.advance(NOW)
    apps.accounts.administer(account, actor="admin:x", blocked_senders=frozenset({"Kontor"}))
    run_to_end(service)
    job = jobs.get(begun.send_id)
    assert isinstance(job, AcceptanceJob)
    assert job.refusal is not None
    assert (job.state, job.refusal.error) == (JobState.REFUSED, "SenderBlockedError")
    assert apps.ledger.wallet(account).available_at(NOW) == 10_000


def test_an_empty_list_or_one_of_opted_out_numbers_is_refused_as_no_recipients(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    jobs: FakeAcceptanceJobs,
    opt_outs: FakeOptOuts,
) -> None:
    account, list_id = customer(apps), uuid4()
    lists.add(account, list_id, numbers(2), vorname="Lea")
    for number in numbers(2):
        opt_outs.opt_out(account, apps.keyring.lookup_hash(account, number))
    begun = service.begin(campaign(account, list_id), NOW).job
    assert begun is not None
    run_to_end(service)
    job = jobs.get(begun.send_id)
    assert job is not None
    assert job.refusal is not None
    assert (job.refusal.error, job.skipped) == ("NoRecipientsError", {"opted_out": 2})


def test_a_quote_names_what_the_acceptance_then_reserves_and_stores_nothing(
    apps: MemoryApps,
    service: ListAcceptance,
    lists: FakeLists,
    opt_outs: FakeOptOuts,
    jobs: FakeAcceptanceJobs,
    staging: FakeStaging,
) -> None:
    account, list_id = customer(apps, credit=20_000), uuid4()
    listed = numbers(8)
    lists.add(account, list_id, listed, vorname="Dana")
    opt_outs.opt_out(account, apps.keyring.lookup_hash(account, listed[4]))
    request = campaign(account, list_id, text="Hallo {vorname}, " + "x" * 160)  # two parts

    quoted = service.quote(request, NOW)

    assert (quoted.read, quoted.staged, quoted.parts, dict(quoted.skipped)) == (
        8, 7, 14, {"opted_out": 1}
    )  # fmt: skip
    assert quoted.expected == 14 * PRICE
    assert jobs.get(quoted.send_id) is None  # nothing stored, keyed or staged
    assert staging.sends == {}
    assert apps.ledger.wallet(account).available_at(NOW) == 20_000

    begun = service.begin(request, NOW).job
    assert begun is not None
    run_to_end(service)
    assert apps.ledger.reservation(reservation_id_for(begun.send_id)).amount == quoted.expected
    assert apps.messaging.send(begun.send_id).total == quoted.staged


def test_a_quote_refuses_what_the_acceptance_would_refuse(
    apps: MemoryApps, service: ListAcceptance, lists: FakeLists, opt_outs: FakeOptOuts
) -> None:
    account, list_id = customer(apps), uuid4()
    lists.add(account, list_id, numbers(2), vorname="Eva")
    for number in numbers(2):
        opt_outs.opt_out(account, apps.keyring.lookup_hash(account, number))
    with pytest.raises(NoRecipientsError):
        service.quote(campaign(account, list_id), NOW)
    with pytest.raises(InvalidSenderError):
        service.quote(replace(campaign(account, list_id), sender="Ü" * 12), NOW)
