"""The carrier sender's rules (services.submission, services.submit_parts) over in-memory fakes:
triage, deadlines, part outcomes, acknowledgements, and whole batches with redeliveries."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import msgspec
import pytest
from eventsourcing.persistence import DataError

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.jetstream.payloads import OutboundMessage, Sealed
from adapters.smpp.outcomes import (
    NotSent,
    PartAccepted,
    PartOutcome,
    QueueFull,
    Rejected,
    SubmitRequest,
    Throttled,
    Unknown,
)
from adapters.smpp.smpptime import parse_relative_smpp_time
from domain.messaging.claims import SUBMITTING, Claim, ClaimTicket
from domain.messaging.records import SubmitOutcome, SubmitResult
from services.acks import ACK, Ack, Nak
from services.handsets import handset_tail
from services.submission import (
    FLUSH_AT,
    HELD_DELAY,
    REQUEUE_DELAY,
    RESUBMIT_AFTER,
    Submission,
    acknowledgements,
    deadline,
    triage,
)
from services.submit_parts import (
    RETRY_DELAYS,
    Admit,
    Requeue,
    answers,
    message_result,
    result_of,
)
from tests.fakes import FakeClock, FakeOptOuts
from tests.fakes.carrier import (
    FakeCancellations,
    FakeCarrier,
    FakeClaims,
    FakeResultRecorder,
    FakeSleep,
)

ROUTE = "sim-1"
VALIDITY = 48 * 3600.0
NUMBER = "+4915112345678"
LONG_TEXT = "Ihre Bestellung ist unterwegs. " * 6  # 186 GSM-7 characters: two parts


def ticket(message: OutboundMessage, attempt: int) -> ClaimTicket:
    return ClaimTicket(message.message_id, attempt, "tail", message.send_id, message.account_id,
                       message.index, message.parts, message.price)  # fmt: skip


class World:
    """The service with fakes for every port, and a way to make sealed messages."""

    def __init__(self, *answers: PartOutcome) -> None:
        self.clock = FakeClock()
        self.keys = Keyring(os.urandom(32), MemoryKeyStore())
        self.claims = FakeClaims(clock=self.clock)
        self.opt_outs = FakeOptOuts()
        self.cancellations = FakeCancellations()
        self.recorder = FakeResultRecorder(self.claims)
        self.carrier = FakeCarrier(*answers)
        self.sleep = FakeSleep()
        self.send_id = uuid4()
        self.account_id = uuid4()
        self.service = Submission(
            route=ROUTE,
            claims=self.claims,
            opt_outs=self.opt_outs,
            cancellations=self.cancellations,
            keys=self.keys,
            recorder=self.recorder,
            carrier=self.carrier,
            clock=self.clock,
            validity=VALIDITY,
            sleep=self.sleep,
        )

    def message(
        self,
        index: int = 0,
        *,
        text: str = "Ihr Code: 4711",
        number: str = NUMBER,
        expires_in: float | None = 3600.0,
        recorded_ago: float = 60.0,
    ) -> OutboundMessage:
        now = self.clock().timestamp()
        key = uuid4()
        self.keys.create_key(key)
        return OutboundMessage(
            message_id=uuid4(),
            send_id=self.send_id,
            account_id=self.account_id,
            index=index,
            lane="bulk",
            sender="Kontor",
            tariff="standard",
            region="DE",
            number_hash=self.keys.lookup_hash(self.account_id, number),
            number=self.sealed(key, number),
            text=self.sealed(key, text),
            encoding="gsm7",
            parts=1,
            price=790,
            delivery_reports=True,
            recorded_at=now - recorded_ago,
            expires_at=None if expires_in is None else now + expires_in,
        )

    def sealed(self, key: UUID, value: str) -> Sealed:
        ciphertext = self.keys.seal(key, value.encode())
        return Sealed(k=str(key), c=base64.b64encode(ciphertext).decode())

    async def submit(self, *batches: list[OutboundMessage]) -> list[Ack | Nak]:
        return await self.service.submit(list(batches))

    def outcomes(self) -> list[tuple[SubmitOutcome, int]]:
        return [(r.outcome, r.attempt) for r in self.recorder.results]


def plan(
    world: World,
    messages: list[OutboundMessage],
    *,
    earlier: dict[UUID, Claim] | None = None,
    opted_out: Collection[UUID] = (),
    cancelled: Collection[UUID] = (),
) -> tuple[list[tuple[SubmitOutcome, int]], list[int]]:
    """Triage ``messages``: (outcome, attempt) of each result to record, attempt of each submit."""
    result = triage(
        messages,
        earlier or {},
        opted_out,
        cancelled,
        now=world.clock(),
        validity=VALIDITY,
        route=ROUTE,
    )
    assert result.held == []
    return [(r.outcome, r.attempt) for r in result.results], [
        attempt for _, attempt in result.to_submit
    ]


# -- triage ------------------------------------------------------------------------------------


def test_a_message_never_claimed_before_is_submitted_as_its_first_attempt() -> None:
    world = World()
    assert plan(world, [world.message()]) == ([], [1])


@pytest.mark.parametrize("state", ["accepted", "rejected", "cancelled", "expired"])
def test_a_message_with_a_final_claim_is_neither_submitted_nor_recorded_again(state: str) -> None:
    world = World()
    message = world.message()
    assert plan(world, [message], earlier={message.message_id: Claim(state, 1)}) == ([], [])


def test_an_interrupted_attempt_is_recorded_uncertain_and_waits_for_its_receipt() -> None:
    world = World()
    message = world.message()
    earlier = {message.message_id: Claim(SUBMITTING, 2)}
    assert plan(world, [message], earlier=earlier) == ([(SubmitOutcome.UNCERTAIN, 2)], [])
    waits = triage([message], earlier, (), (), now=world.clock(), validity=VALIDITY, route=ROUTE)
    assert waits.waiting == {message.message_id: RESUBMIT_AFTER}


def test_a_bind_that_never_resubmits_leaves_an_uncertain_message_uncertain() -> None:
    world = World()
    message = world.message()
    result = triage([message], {message.message_id: Claim("uncertain", 1, age=3600)}, (), (),
                    now=world.clock(), validity=VALIDITY, route=ROUTE,
                    resubmit_after=None)  # fmt: skip
    assert (result.results, result.to_submit, result.waiting) == ([], [], {})


def test_a_message_recorded_uncertain_goes_again_once_its_resubmit_delay_has_passed() -> None:
    world = World()
    message = world.message()
    fresh = {message.message_id: Claim("uncertain", 1, age=RESUBMIT_AFTER - 12)}
    early = triage([message], fresh, (), (), now=world.clock(), validity=VALIDITY, route=ROUTE)
    assert (early.results, early.to_submit, early.waiting) == ([], [], {message.message_id: 12})
    earlier = {message.message_id: Claim("uncertain", 1, age=RESUBMIT_AFTER)}
    assert plan(world, [message], earlier=earlier) == ([], [2])  # no second uncertainty


def test_a_message_of_a_cancelled_send_is_recorded_cancelled_and_never_submitted() -> None:
    world = World()
    message = world.message()
    assert plan(world, [message], cancelled={world.send_id}) == ([(SubmitOutcome.CANCELLED, 1)], [])


def test_a_message_to_a_number_opted_out_since_is_recorded_cancelled_and_never_submitted() -> None:
    world = World()
    kept, opted = world.message(0), world.message(1)
    outcomes, submits = plan(world, [kept, opted], opted_out={opted.message_id})
    assert (outcomes, submits) == ([(SubmitOutcome.CANCELLED, 1)], [1])


def test_a_message_past_its_sends_deadline_is_recorded_expired_and_never_submitted() -> None:
    world = World()
    message = world.message(expires_in=-1.0)
    assert plan(world, [message]) == ([(SubmitOutcome.EXPIRED, 1)], [])


def test_a_cancelled_send_past_its_deadline_counts_as_cancelled() -> None:
    world = World()
    message = world.message(expires_in=-1.0)
    assert plan(world, [message], cancelled={world.send_id}) == ([(SubmitOutcome.CANCELLED, 1)], [])


def test_an_interrupted_message_of_a_cancelled_send_is_uncertain_then_cancelled() -> None:
    world = World()
    message = world.message()
    earlier = {message.message_id: Claim(SUBMITTING, 1)}
    outcomes, submits = plan(world, [message], earlier=earlier, cancelled={world.send_id})
    assert (outcomes, submits) == ([(SubmitOutcome.UNCERTAIN, 1), (SubmitOutcome.CANCELLED, 2)], [])


# -- deadline ----------------------------------------------------------------------------------


def test_the_deadline_is_the_expiry_of_the_messages_send() -> None:
    world = World()
    message = world.message(expires_in=600.0)
    assert deadline(message, VALIDITY) == world.clock().timestamp() + 600.0


def test_a_message_recorded_without_an_expiry_lasts_its_validity_from_its_recording() -> None:
    world = World()
    message = world.message(expires_in=None, recorded_ago=VALIDITY - 5)
    assert deadline(message, VALIDITY) == world.clock().timestamp() + 5
    assert plan(world, [message]) == ([], [1])
    world.clock.advance(timedelta(seconds=6))
    assert plan(world, [message]) == ([(SubmitOutcome.EXPIRED, 1)], [])


def test_a_message_is_still_submitted_at_the_very_second_of_its_deadline() -> None:
    world = World()
    message = world.message(expires_in=0.0)
    assert plan(world, [message]) == ([], [1])


# -- part outcomes -> the message's result -------------------------------------------------------


def result(world: World, *outcomes: PartOutcome) -> SubmitResult | Requeue:
    return message_result(world.message(), outcomes, route=ROUTE, attempt=1, at=world.clock())


def test_a_message_whose_parts_are_all_accepted_is_accepted_with_every_carrier_id() -> None:
    got = result(World(), PartAccepted("a1"), PartAccepted("a2"))
    assert isinstance(got, SubmitResult)
    assert (got.outcome, got.carrier_ids, got.command_status) == (
        SubmitOutcome.ACCEPTED,
        ("a1", "a2"),
        0,
    )


def test_a_rejected_first_part_rejects_the_message_with_the_carriers_status() -> None:
    got = result(World(), Rejected(0x0B))
    assert isinstance(got, SubmitResult)
    assert (got.outcome, got.carrier_ids, got.command_status) == (SubmitOutcome.REJECTED, (), 0x0B)


def test_a_rejected_later_part_leaves_the_message_accepted_for_the_parts_at_the_carrier() -> None:
    got = result(World(), PartAccepted("a1"), Rejected(0x0B))
    assert isinstance(got, SubmitResult)
    assert (got.outcome, got.carrier_ids, got.command_status) == (
        SubmitOutcome.ACCEPTED,
        ("a1",),
        0x0B,
    )


@pytest.mark.parametrize(
    "parts", [[Unknown("timeout")], [PartAccepted("a1"), Unknown("connection_lost")]]
)
def test_an_unanswered_part_makes_the_message_uncertain_with_an_empty_id_for_it(
    parts: list[PartOutcome],
) -> None:
    got = result(World(), *parts)
    assert isinstance(got, SubmitResult)
    assert got.outcome is SubmitOutcome.UNCERTAIN
    assert got.carrier_ids == (*(p.message_id for p in parts if isinstance(p, PartAccepted)), "")


@pytest.mark.parametrize(
    "first",
    [Throttled(), QueueFull(), NotSent("not bound"), Rejected(0x08)],  # 0x08: system error
)
def test_a_first_part_that_could_not_go_out_requeues_the_whole_message(first: PartOutcome) -> None:
    assert result(World(), first) == Requeue()


def test_a_later_part_that_never_got_out_makes_the_message_uncertain() -> None:
    got = result(World(), PartAccepted("a1"), Throttled())
    assert isinstance(got, SubmitResult)
    assert (got.outcome, got.carrier_ids) == (SubmitOutcome.UNCERTAIN, ("a1", ""))


# -- the parts on the wire ---------------------------------------------------------------------


async def wire(world: World, text: str) -> list[PartOutcome]:
    message = world.message(text=text)
    return await answers(world.carrier, message, NUMBER, text, "000000010000000R", world.sleep)


async def test_a_later_throttled_part_is_tried_again_after_growing_pauses() -> None:
    world = World(PartAccepted("a1"), Throttled(), QueueFull(), PartAccepted("a2"))
    assert await wire(world, LONG_TEXT) == [PartAccepted("a1"), PartAccepted("a2")]
    assert world.sleep.pauses == [0.2, 0.5]


async def test_a_later_part_is_given_up_after_its_last_pause() -> None:
    world = World()
    world.carrier.script = lambda request, n: PartAccepted("a1") if n == 0 else NotSent("not bound")
    assert await wire(world, LONG_TEXT) == [PartAccepted("a1"), NotSent("not bound")]
    assert world.sleep.pauses == list(RETRY_DELAYS)
    assert len(world.carrier.requests) == 1 + len(RETRY_DELAYS)


async def test_a_first_throttled_part_is_not_tried_again_here() -> None:
    world = World(Throttled())
    assert await wire(world, LONG_TEXT) == [Throttled()]
    assert (world.sleep.pauses, len(world.carrier.requests)) == ([], 1)


async def test_no_part_follows_a_rejected_one() -> None:
    world = World(Rejected(0x0B))
    assert await wire(world, LONG_TEXT) == [Rejected(0x0B)]
    assert len(world.carrier.requests) == 1


async def test_each_part_carries_its_udh_the_sender_and_the_validity_left() -> None:
    world = World()
    await wire(world, LONG_TEXT)
    first, second = world.carrier.requests
    assert isinstance(first, SubmitRequest)
    assert (first.esm_class, second.esm_class) == (0x40, 0x40)
    assert first.payload[:3] == second.payload[:3] == b"\x05\x00\x03"  # concatenation UDH
    assert (first.source, first.destination, first.registered_delivery) == ("Kontor", NUMBER, 1)
    assert parse_relative_smpp_time(first.validity_period) == timedelta(hours=1)


# -- acknowledgements --------------------------------------------------------------------------


def test_batches_whose_messages_are_all_done_are_acknowledged() -> None:
    world = World()
    batches = [[world.message(0)], [world.message(1)]]
    assert acknowledgements(batches, set(), {}) == [ACK, ACK]


def test_a_requeued_message_brings_its_batch_back_in_a_second_an_uncertain_one_in_five() -> None:
    world = World()
    requeued, uncertain, done = world.message(0), world.message(1), world.message(2)
    batches = [[requeued, uncertain], [uncertain], [done]]
    got = acknowledgements(batches, {requeued.message_id}, {uncertain.message_id: 12.5})
    assert got == [Nak(REQUEUE_DELAY), Nak(12.5), ACK]  # the soonest reason wins


# -- whole batches -------------------------------------------------------------------------------


async def test_a_batch_is_submitted_recorded_and_acknowledged() -> None:
    world = World()
    batch = [world.message(0), world.message(1, text=LONG_TEXT)]
    assert await world.submit(batch) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.ACCEPTED, 1), (SubmitOutcome.ACCEPTED, 1)]
    assert [r.carrier_ids for r in world.recorder.results] == [("id-1",), ("id-2", "id-3")]
    assert len(world.recorder.reports) == 1  # one CarrierReport for a batch answered at once
    assert {c.state for c in world.claims.claims.values()} == {"accepted"}
    assert world.claims.takes == [[m.message_id for m in batch]]  # one wave: one statement


async def test_a_redelivered_batch_is_acknowledged_without_a_second_submit() -> None:
    world = World()
    batch = [world.message(0), world.message(1)]
    await world.submit(batch)
    assert await world.submit(batch) == [ACK]
    assert len(world.carrier.requests) == 2
    assert len(world.recorder.reports) == 1


async def test_a_message_in_two_batches_of_one_fetch_is_submitted_once() -> None:
    world = World()
    message = world.message()
    assert await world.submit([message], [message]) == [ACK, ACK]
    assert len(world.carrier.requests) == 1


async def test_a_throttled_message_gives_its_claim_back_and_its_batch_comes_again() -> None:
    world = World(Throttled())
    throttled, other = world.message(0), world.message(1)
    assert await world.submit([throttled, other], [world.message(2)]) == [Nak(1.0), ACK]
    assert world.claims.unclaimed == [throttled.message_id]
    assert throttled.message_id not in {r.message_id for r in world.recorder.results}
    assert await world.submit([throttled, other]) == [ACK]  # redelivered: a first attempt again
    assert world.recorder.results[-1].message_id == throttled.message_id
    assert world.recorder.results[-1].attempt == 1


async def test_an_unanswered_message_is_recorded_uncertain_then_submitted_as_attempt_two() -> None:
    world = World(Unknown("timeout"))
    message = world.message()
    assert await world.submit([message]) == [Nak(RESUBMIT_AFTER)]
    world.clock.advance(timedelta(seconds=10))
    assert await world.submit([message]) == [Nak(RESUBMIT_AFTER - 10)]  # too early: it waits
    world.clock.advance(timedelta(seconds=RESUBMIT_AFTER))
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.UNCERTAIN, 1), (SubmitOutcome.ACCEPTED, 2)]


async def test_a_bind_that_never_resubmits_reports_an_unanswered_message_uncertain() -> None:
    world = World(Unknown("timeout"))
    world.service.resubmit_after = None
    message = world.message()
    assert await world.submit([message]) == [ACK]
    assert await world.submit([message]) == [ACK]  # a redelivery sends nothing
    assert world.outcomes() == [(SubmitOutcome.UNCERTAIN, 1)]
    assert len(world.carrier.requests) == 1


async def test_a_sender_that_died_after_submitting_records_the_uncertainty_then_resubmits() -> None:
    world = World()
    message = world.message()
    world.claims.owner = "dead"
    world.claims.take([ticket(message, 1)])  # claimed, written, never recorded
    world.claims.die("dead")
    world.claims.owner = "me"
    assert await world.submit([message]) == [Nak(RESUBMIT_AFTER)]  # its receipt may settle it
    assert world.carrier.requests == []
    world.clock.advance(timedelta(seconds=RESUBMIT_AFTER))
    assert await world.submit([message]) == [ACK]  # no receipt came: it goes again
    assert world.outcomes() == [(SubmitOutcome.UNCERTAIN, 1), (SubmitOutcome.ACCEPTED, 2)]
    assert world.claims.claims[message.message_id] == Claim("accepted", 2)


async def test_a_message_a_live_sender_is_at_is_left_alone_and_its_batch_comes_back_later() -> None:
    world = World()
    slow, free = world.message(0), world.message(1)
    world.claims.owner = "other"
    world.claims.alive.add("other")
    world.claims.take([ticket(slow, 1)])  # the other sender waits for its answer
    world.claims.owner = "me"
    assert await world.submit([slow], [free]) == [Nak(HELD_DELAY), ACK]
    assert [r.destination for r in world.carrier.requests] == [NUMBER]  # only the free one
    assert slow.message_id not in {r.message_id for r in world.recorder.results}
    world.recorder.record(  # the other sender records its answer
        [result_of(slow, SubmitOutcome.ACCEPTED, route=ROUTE, attempt=1, at=world.clock())], {}
    )
    assert await world.submit([slow]) == [ACK]
    assert len(world.carrier.requests) == 1


async def test_a_message_another_sender_took_since_the_triage_is_not_written() -> None:
    world = World()
    message = world.message()
    real_take = world.claims.take

    def take_after_the_other(tickets: Sequence[ClaimTicket]) -> set[UUID]:
        world.claims.owner = "other"
        world.claims.alive.add("other")
        real_take(tickets)  # the other sender wins the race for the claim
        world.claims.owner = "me"
        return real_take(tickets)

    world.claims.take = take_after_the_other  # type: ignore[method-assign]
    assert await world.submit([message]) == [Nak(REQUEUE_DELAY)]
    assert world.carrier.requests == []
    assert world.recorder.results == []
    assert world.claims.claims[message.message_id] == Claim(SUBMITTING, 1)  # still the other's


async def test_claims_are_taken_when_the_parts_reach_the_wire_not_for_the_whole_batch() -> None:
    world = World()
    window = asyncio.Semaphore(2)  # a carrier with two window slots, answering after a turn
    carrier = world.carrier

    async def windowed(request: SubmitRequest, admit: Admit | None = None) -> PartOutcome:
        async with window:
            if admit is not None and not await admit():
                return NotSent("not admitted")
            carrier.requests.append(request)
            await asyncio.sleep(0)
            return PartAccepted(f"id-{len(carrier.requests)}")

    carrier.submit = windowed  # type: ignore[method-assign]
    batch = [world.message(n) for n in range(6)]
    assert await world.submit(batch) == [ACK]
    # Claimed two by two, as window slots came free: never more than could be on the wire.
    assert [len(t) for t in world.claims.takes] == [2, 2, 2]


async def test_one_claim_statement_runs_at_a_time_and_what_waits_meanwhile_goes_next() -> None:
    """Group commit: first parts reaching the wire while a take runs share the next take."""
    world = World()
    carrier = world.carrier
    real_take = world.claims.take
    running: list[int] = []
    overlapping: list[int] = []

    def slow_take(tickets: Sequence[ClaimTicket]) -> set[UUID]:
        running.append(1)
        overlapping.append(len(running))
        time.sleep(0.02)  # a database round trip, in the worker thread
        running.pop()
        return real_take(tickets)

    calls: list[SubmitRequest] = []

    async def staggered(request: SubmitRequest, admit: Admit | None = None) -> PartOutcome:
        calls.append(request)
        await asyncio.sleep(0.004 * len(calls))  # slots come free one by one
        if admit is not None and not await admit():
            return NotSent("not admitted")
        carrier.requests.append(request)
        return PartAccepted(f"id-{len(carrier.requests)}")

    world.claims.take = slow_take  # type: ignore[method-assign]
    carrier.submit = staggered  # type: ignore[method-assign]
    batch = [world.message(n) for n in range(12)]
    assert await world.submit(batch) == [ACK]
    assert max(overlapping) == 1
    assert sum(len(t) for t in world.claims.takes) == 12
    assert len(world.claims.takes) < 12  # several first parts per statement
    assert len(world.outcomes()) == 12


async def test_a_claim_the_database_cannot_take_leaves_the_message_unsent_for_later() -> None:
    world = World()
    world.claims.failing = 1
    message = world.message()
    assert await world.submit([message]) == [Nak(REQUEUE_DELAY)]
    assert world.carrier.requests == []
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.ACCEPTED, 1)]


async def test_a_claim_statement_the_database_refuses_leaves_the_message_unsent() -> None:
    """Not only an outage: a refused statement must not leave the submit waiting for ever."""
    world = World()
    world.claims.failing = 1
    world.claims.refusal = DataError("value out of range")
    message = world.message()
    assert await world.submit([message]) == [Nak(REQUEUE_DELAY)]
    assert world.carrier.requests == []


async def test_answers_are_kept_even_when_the_database_refuses_the_statement() -> None:
    world = World()
    world.recorder.failing = 2
    world.recorder.refusal = DataError("value out of range")
    message = world.message()
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.ACCEPTED, 1)]
    assert len(world.carrier.requests) == 1


async def test_answers_the_database_refuses_are_kept_and_recorded_once_it_takes_them() -> None:
    world = World()
    world.recorder.failing = 3
    message = world.message()
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.ACCEPTED, 1)]
    assert len(world.carrier.requests) == 1  # never submitted again
    assert world.sleep.pauses == [0.5, 1.0, 2.0]


async def test_a_big_batchs_answers_are_recorded_in_several_reports_as_they_come() -> None:
    world = World()
    batch = [world.message(n) for n in range(FLUSH_AT + 10)]
    assert await world.submit(batch) == [ACK]
    assert [len(r) for r in world.recorder.reports] == [FLUSH_AT, 10]
    assert len({r.message_id for r in world.recorder.results}) == FLUSH_AT + 10


async def test_the_handset_each_message_went_to_is_recorded_with_its_result() -> None:
    world = World()
    message = world.message()
    await world.submit([message])
    assert world.recorder.handsets == {message.message_id: handset_tail(world.keys, NUMBER)}


async def test_a_message_to_an_erased_person_is_recorded_cancelled_and_never_submitted() -> None:
    world = World()
    message = world.message()
    world.keys.shred(UUID(message.number.k))
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.CANCELLED, 1)]
    assert world.carrier.requests == []


async def test_a_redacted_message_is_recorded_cancelled_and_never_submitted() -> None:
    world = World()
    message = world.message()
    redacted = msgspec.structs.replace(message, text=Sealed(message.text.k, None))
    assert await world.submit([redacted]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.CANCELLED, 1)]
    assert world.carrier.requests == []


async def test_opted_out_numbers_are_cancelled_on_the_way_to_the_carrier() -> None:
    world = World()
    opted, kept = world.message(0, number="+4915199999999"), world.message(1)
    world.opt_outs.opt_out(world.account_id, opted.number_hash)
    await world.submit([opted, kept])
    assert {r.message_id: r.outcome for r in world.recorder.results} == {
        opted.message_id: SubmitOutcome.CANCELLED,
        kept.message_id: SubmitOutcome.ACCEPTED,
    }
    assert [r.destination for r in world.carrier.requests] == [NUMBER]


async def test_a_sends_state_is_asked_once_a_second_so_a_cancellation_stops_it_within_one() -> None:
    world = World()
    await world.submit([world.message(0)])
    world.cancellations.cancel(world.send_id)
    world.clock.advance(timedelta(seconds=0.6))
    await world.submit([world.message(1)])  # within the second: still taken as sending
    world.clock.advance(timedelta(seconds=0.6))
    late = world.message(2)
    await world.submit([late])
    assert world.cancellations.asked == [world.send_id, world.send_id]
    assert world.recorder.results[-1].outcome is SubmitOutcome.CANCELLED
    assert len(world.carrier.requests) == 2


async def test_a_throttled_second_attempt_is_uncertain_again_and_taken_next_time() -> None:
    world = World(Unknown("timeout"), Throttled())
    message = world.message()
    assert await world.submit([message]) == [Nak(RESUBMIT_AFTER)]
    world.clock.advance(timedelta(seconds=RESUBMIT_AFTER))
    assert await world.submit([message]) == [Nak(REQUEUE_DELAY)]  # attempt 2 could not go out
    assert world.claims.claims[message.message_id] == Claim("uncertain", 1)
    assert await world.submit([message]) == [Nak(RESUBMIT_AFTER)]  # its wait starts again
    world.clock.advance(timedelta(seconds=RESUBMIT_AFTER))
    assert await world.submit([message]) == [ACK]
    assert world.outcomes() == [(SubmitOutcome.UNCERTAIN, 1), (SubmitOutcome.ACCEPTED, 2)]


async def test_batches_in_work_side_by_side_share_reports_and_wait_for_their_own() -> None:
    world = World()
    record = world.recorder.record

    def slow(results: Sequence[SubmitResult], handsets: Mapping[UUID, str]) -> None:
        time.sleep(0.02)  # a database round trip: the others' answers come meanwhile
        record(results, handsets)

    world.recorder.record = slow  # type: ignore[method-assign]
    recorded_at_answer: list[bool] = []

    async def one(message: OutboundMessage) -> list[Ack | Nak]:
        answer = await world.submit([message])
        recorded_at_answer.append(
            message.message_id in {r.message_id for r in world.recorder.results}
        )
        return answer

    messages = [world.message(n) for n in range(10)]
    answers = await asyncio.gather(*(one(m) for m in messages))
    assert answers == [[ACK]] * 10
    assert recorded_at_answer == [True] * 10  # acknowledged only once recorded
    assert len(world.recorder.reports) < 5
    assert sorted(r.message_id for r in world.recorder.results) == sorted(
        m.message_id for m in messages
    )
    assert world.recorder.handsets.keys() == {m.message_id for m in messages}
    assert world.service._sink is not None
    assert world.service._sink.handsets == {}  # kept only until recorded
