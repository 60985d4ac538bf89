"""Submit claims and the carrier-id index in PostgreSQL: leases, races for a claim, the
claims' final states and the latest submission of a carrier id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg_pool import ConnectionPool

from adapters.postgres.claims import (
    PostgresCarrierIds,
    PostgresClaims,
    PostgresInDoubt,
    side_effects,
)
from adapters.postgres.eventstore import event_store_env
from adapters.send_states import SendCancellations
from domain.messaging.application import Messaging
from domain.messaging.claims import SUBMITTING, Claim, ClaimTicket
from domain.messaging.records import Lane, SubmitOutcome, SubmitResult
from domain.messaging.send import Send
from domain.personal import PersonalData
from domain.tariff import Tariff

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def pool(fresh_database_url: str) -> Iterator[ConnectionPool[Any]]:
    with ConnectionPool(fresh_database_url, min_size=1, max_size=4) as pool:
        yield pool


def ticket(message_id: UUID, attempt: int, handset: str = "tail") -> ClaimTicket:
    return ClaimTicket(message_id, attempt, handset, uuid4(), uuid4(), 0, 1, 790)


def result(message_id: UUID, outcome: SubmitOutcome, *ids: str, attempt: int = 1) -> SubmitResult:
    return SubmitResult(message_id=message_id, send_id=uuid4(), account_id=uuid4(), index=0,
                        parts=len(ids) or 1, price=790, outcome=outcome, carrier_ids=ids,
                        command_status=0, attempt=attempt, route="standard", at=AT)  # fmt: skip


def apply(
    pool: ConnectionPool[Any], results: list[SubmitResult], handsets: dict[UUID, str]
) -> None:
    with pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
        for statement, rows in side_effects(results, "simulator", handsets):
            cur.executemany(statement, rows)


def test_a_live_senders_claim_is_held_and_cannot_be_taken_by_another(
    pool: ConnectionPool[Any],
) -> None:
    one, two = PostgresClaims(pool, "standard"), PostgresClaims(pool, "standard")
    one.renew_lease()
    two.renew_lease()
    message = uuid4()
    assert one.take([ticket(message, 1)]) == {message}
    assert two.take([ticket(message, 1)]) == set()  # a first attempt is taken once
    assert two.take([ticket(message, 2)]) == set()  # held: no second attempt while one lives
    assert two.earlier([message]) == {message: Claim(SUBMITTING, 1, held=True)}
    one.end_lease()  # the first sender stopped (or its lease ran out): interrupted
    assert two.earlier([message]) == {message: Claim(SUBMITTING, 1, held=False)}
    assert two.take([ticket(message, 2)]) == {message}
    assert two.take([ticket(message, 2)]) == set()  # the same attempt twice: taken once


def test_a_final_claim_is_never_taken_again_and_results_upsert_claims(
    pool: ConnectionPool[Any],
) -> None:
    claims = PostgresClaims(pool, "standard")
    claims.renew_lease()
    sent, cancelled = uuid4(), uuid4()
    claims.take([ticket(sent, 1)])
    apply(
        pool,
        [result(sent, SubmitOutcome.ACCEPTED, "77"), result(cancelled, SubmitOutcome.CANCELLED)],
        {sent: "tail"},
    )
    found = claims.earlier([sent, cancelled])
    assert found == {sent: Claim("accepted", 1), cancelled: Claim("cancelled", 1)}
    assert claims.take([ticket(sent, 2), ticket(cancelled, 2)]) == set()


def test_only_the_senders_own_unwritten_first_attempts_are_given_back(
    pool: ConnectionPool[Any],
) -> None:
    mine, theirs = PostgresClaims(pool, "standard"), PostgresClaims(pool, "standard")
    a, b = uuid4(), uuid4()
    mine.take([ticket(a, 1)])
    theirs.take([ticket(b, 1)])
    mine.give_back([a, b])
    assert set(mine.earlier([a, b])) == {b}


def test_the_index_names_the_latest_submission_of_a_carrier_id_and_its_handset(
    pool: ConnectionPool[Any],
) -> None:
    index = PostgresCarrierIds(pool)
    old, new = uuid4(), uuid4()
    apply(pool, [result(old, SubmitOutcome.ACCEPTED, "100")], {old: "tail-old"})
    apply(pool, [result(new, SubmitOutcome.ACCEPTED, "100")], {new: "tail-new"})  # id reused
    ((message_id, _, _, part, handset),) = index.lookup({("simulator", "100")}).values()
    assert (message_id, part, handset) == (new, 1, "tail-new")


def test_index_rows_named_by_a_carriers_address_take_its_name(pool: ConnectionPool[Any]) -> None:
    claims = PostgresClaims(pool, "standard")
    message = uuid4()
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO carrier_ids (carrier, carrier_id, message_id, send_id, account_id, part)"
            " VALUES ('kontor@127.0.0.1:2775', '5', %s, %s, %s, 1)",
            (message, uuid4(), uuid4()),
        )
    assert claims.adopt_carrier("simulator", "kontor@127.0.0.1:2775") == 1
    assert set(PostgresCarrierIds(pool).lookup({("simulator", "5")})) == {("simulator", "5")}


@pytest.fixture
def messaging(fresh_database_url: str) -> Iterator[Messaging]:
    app = Messaging(env=event_store_env(fresh_database_url))
    yield app
    app.close()


def test_messages_in_doubt_are_found_by_handset_and_settled_once(
    pool: ConnectionPool[Any], messaging: Messaging
) -> None:
    dead, live = PostgresClaims(pool, "standard", "sim"), PostgresClaims(pool, "standard", "sim")
    dead.renew_lease()
    live.renew_lease()
    lost, held = uuid4(), uuid4()
    dead.take([ticket(lost, 1, "h1")])
    live.take([ticket(held, 1, "h1")])
    dead.end_lease()  # its sender died after writing it
    doubts = PostgresInDoubt(pool, messaging)
    (found,) = doubts.in_doubt({("sim", "h1")})[("sim", "h1")]  # not the live sender's
    assert (found.ticket.message_id, found.ticket.attempt, found.route) == (lost, 1, "standard")
    assert doubts.recover(found, "4711", AT)
    assert not doubts.recover(found, "4712", AT)  # settled already: once
    assert dead.earlier([lost]) == {lost: Claim("accepted", 1)}
    ((message_id, _, _, part, handset),) = (
        PostgresCarrierIds(pool).lookup({("sim", "4711")}).values()
    )
    assert (message_id, part, handset) == (lost, 1, "h1")
    assert doubts.in_doubt({("sim", "h1")}) == {}


def test_a_receipt_that_settled_a_message_in_doubt_is_not_undone_by_a_stale_verdict(
    pool: ConnectionPool[Any], messaging: Messaging
) -> None:
    """A sender that found the claim interrupted records it uncertain; a receipt recovered it
    meanwhile. The claim stays accepted: an uncertain claim would be submitted again once the
    resubmit delay passed, to a handset that already has the message."""
    dead, live = PostgresClaims(pool, "standard", "sim"), PostgresClaims(pool, "standard", "sim")
    live.renew_lease()
    message, gone = uuid4(), uuid4()
    dead.take([ticket(message, 1, "h3"), ticket(gone, 1, "h4")])  # never renewed: in doubt
    assert live.earlier([message])[message].interrupted  # the living sender's triage read this
    doubts = PostgresInDoubt(pool, messaging)
    (found,) = doubts.in_doubt({("sim", "h3")})[("sim", "h3")]
    assert doubts.recover(found, "4711", AT)  # the receipt came first
    apply(
        pool,
        [
            result(message, SubmitOutcome.UNCERTAIN),  # the triage's verdict, recorded after
            result(gone, SubmitOutcome.UNCERTAIN),
        ],
        {},
    )
    assert live.earlier([message, gone]) == {
        message: Claim("accepted", 1),
        gone: Claim("uncertain", 1),
    }
    assert live.take([ticket(message, 2, "h3")]) == set()  # never submitted again
    apply(pool, [result(gone, SubmitOutcome.CANCELLED, attempt=0)], {})  # an older attempt's
    assert live.earlier([gone]) == {gone: Claim("uncertain", 1)}


def test_a_message_sent_again_meanwhile_is_not_settled_by_a_late_receipt(
    pool: ConnectionPool[Any], messaging: Messaging
) -> None:
    first, second = PostgresClaims(pool, "standard", "sim"), PostgresClaims(pool, "standard", "sim")
    message = uuid4()
    first.take([ticket(message, 1, "h2")])  # never renewed: in doubt at once
    doubts = PostgresInDoubt(pool, messaging)
    (found,) = doubts.in_doubt({("sim", "h2")})[("sim", "h2")]
    second.renew_lease()
    assert second.take([ticket(message, 2, "h2")]) == {message}  # resubmitted first
    before = messaging.recorder.max_notification_id()
    assert not doubts.recover(found, "4711", AT)
    assert messaging.recorder.max_notification_id() == before  # nothing recorded
    assert second.earlier([message]) == {message: Claim(SUBMITTING, 2, held=True)}


def test_a_later_attempt_that_did_not_go_out_is_uncertain_again_not_held(
    pool: ConnectionPool[Any],
) -> None:
    claims = PostgresClaims(pool, "standard")
    claims.renew_lease()
    message = uuid4()
    apply(pool, [result(message, SubmitOutcome.UNCERTAIN, attempt=1)], {})
    assert claims.take([ticket(message, 2)]) == {message}
    claims.give_back([message])  # throttled, or the take's answer was lost
    assert claims.earlier([message]) == {message: Claim("uncertain", 1)}
    assert claims.take([ticket(message, 2)]) == {message}  # the next try takes it again


def test_the_cancelled_sends_of_a_batch_are_found_in_one_lookup(messaging: Messaging) -> None:
    def send() -> Send:
        account = uuid4()
        return Send(
            id=uuid4(), account_id=account, lane=Lane.TRANSACTIONAL, sender="Shop",
            tariff=Tariff.QUALITY, template=PersonalData(account, None), list_id=None, total=1,
            parts=1, expected_cost=790, skipped=(), schedule_at=None, review_required=False,
            fingerprint="f", idempotency_key=None, name="", expires_at=None,
        )  # fmt: skip

    kept, cancelled, snapshotted = send(), send(), send()
    for s in (kept, cancelled, snapshotted):
        messaging.save(s)
    messaging.cancel(cancelled.id, None, "customer:kt_y", "not needed")
    messaging.cancel(snapshotted.id, None, "customer:kt_y", "not needed")
    messaging.take_snapshot(snapshotted.id)
    lookup = SendCancellations(messaging)
    assert lookup.cancelled([kept.id, cancelled.id, snapshotted.id, uuid4()]) == {
        cancelled.id,
        snapshotted.id,
    }
    assert lookup.cancelled([]) == set()
