"""Each carrier misbehaviour the simulator plays, and what the client makes of it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from adapters.smpp.client import SmppClient
from adapters.smpp.constants import CommandStatus
from adapters.smpp.message_id import IdFormat, canonical_message_id
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
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import DeliveryState, is_receipt, parse_receipt
from adapters.smpp.smpptime import format_relative_smpp_time
from tests.support.smsc import Inbox, eventually, simulator, unacked


def request(i: int, prefix: str = "+49170") -> SubmitRequest:
    return SubmitRequest(source="Kontor", destination=f"{prefix}{i:07d}", payload=b"m%d" % i)


async def test_throttling_answers_throttled_and_the_client_slows_down(tmp_path: Path) -> None:
    throttled = 0
    rates: list[float | None] = []  # the client's pace right after each throttle

    async def send_until_accepted(client: SmppClient, i: int) -> str:
        nonlocal throttled
        while True:
            outcome = await client.submit(request(i))
            if isinstance(outcome, PartAccepted):
                return outcome.message_id
            assert isinstance(outcome, Throttled)
            throttled += 1
            rates.append(client.limiter.rate)

    with simulator(tmp_path, "--throttle-tps", "200") as sim:
        async with SmppClient(sim.client_config(window=32), Inbox()) as client:
            started = time.monotonic()
            ids = await asyncio.gather(*(send_until_accepted(client, i) for i in range(800)))
            elapsed = time.monotonic() - started
        with sim.record() as record:
            recorded, refused = record.count_submits(), record.stat("throttled")
    assert len(set(ids)) == recorded == 800
    assert throttled == refused > 0
    # Checked as the throttles came, not after the run: on a busy machine the limiter may
    # already have recovered (2 s without a throttle) by the time the last submit is in.
    assert None not in rates
    assert min(r for r in rates if r is not None) < 500  # it slowed to the carrier's pace...
    assert throttled < 100  # ...instead of hammering: without slowing, over 500 are refused
    assert elapsed > (800 - 200) / 200 * 0.9


async def test_a_full_queue_asks_for_a_later_retry_and_nothing_is_recorded(tmp_path: Path) -> None:
    with simulator(tmp_path, "--queue-full", "0.3", "--seed", "3") as sim:
        async with SmppClient(sim.client_config(), Inbox()) as client:
            outcomes = await asyncio.gather(*(client.submit(request(i)) for i in range(100)))
        with sim.record() as record:
            recorded = {r.message_id for r in record.submits()}
    full = [o for o in outcomes if isinstance(o, QueueFull)]
    accepted = {o.message_id for o in outcomes if isinstance(o, PartAccepted)}
    assert 15 < len(full) < 45
    assert len(full) + len(accepted) == 100
    assert recorded == accepted


async def test_destinations_the_carrier_refuses_are_rejected_for_good(tmp_path: Path) -> None:
    with simulator(tmp_path, "--scenario", "reject") as sim:
        async with SmppClient(sim.client_config(), Inbox()) as client:
            refused = await client.submit(request(1, prefix="+4900"))
            taken = await client.submit(request(1))
        with sim.record() as record:
            assert record.count_submits() == 1
    assert refused == Rejected(CommandStatus.ESME_RINVDSTADR)
    assert isinstance(refused, Rejected)
    assert refused.permanent
    assert isinstance(taken, PartAccepted)


async def test_a_submit_without_answer_is_unknown_to_the_client_but_accepted_by_the_carrier(
    tmp_path: Path,
) -> None:
    with simulator(tmp_path, "--no-response", "0.2", "--seed", "5") as sim:
        config = sim.client_config(response_timeout=0.5)
        async with SmppClient(config, Inbox()) as client:
            outcomes = await asyncio.gather(*(client.submit(request(i)) for i in range(60)))
        with sim.record() as record:
            silent = record.with_effect("no_response")
            total = record.count_submits()
    unknown = [o for o in outcomes if isinstance(o, Unknown)]
    accepted = {o.message_id for o in outcomes if isinstance(o, PartAccepted)}
    assert unknown
    assert all(o.reason == "timeout" for o in unknown)
    assert len(silent) == len(unknown)
    assert total == len(accepted) + len(unknown) == 60
    assert accepted.isdisjoint(row.message_id for row in silent)


async def test_the_client_rebinds_after_each_disconnect_and_carries_on(tmp_path: Path) -> None:
    outcomes: list[PartOutcome] = []

    async def send(client: SmppClient, i: int) -> None:
        outcome = await client.submit(request(i))
        while isinstance(outcome, NotSent):  # nothing went out: safe to send again
            outcome = await client.submit(request(i))
        outcomes.append(outcome)

    with simulator(tmp_path, "--disconnect-every", "25") as sim:
        async with SmppClient(sim.client_config(window=4), Inbox()) as client:
            await asyncio.gather(*(send(client, i) for i in range(200)))
            binds = client.binds
        with sim.record() as record:
            recorded = {r.message_id for r in record.submits()}
            disconnects = record.stat("disconnects")
    accepted = {o.message_id for o in outcomes if isinstance(o, PartAccepted)}
    unknown = [o for o in outcomes if isinstance(o, Unknown)]
    assert len(outcomes) == 200
    assert disconnects >= 200 // 25 - 1
    # One bind at the start and one after each disconnect (the last may race with close()).
    assert disconnects <= binds <= disconnects + 1
    assert accepted <= recorded
    assert len(recorded) <= len(accepted) + len(unknown)
    assert all(o.reason == "connection_lost" for o in unknown)


async def test_a_receipt_before_its_submit_response_still_reaches_the_callback(
    tmp_path: Path,
) -> None:
    known: set[str] = set()
    parked: list[str] = []

    async def on_deliver(pdu: DeliverSm) -> None:
        receipt = parse_receipt(pdu)
        if receipt.message_id not in known:
            parked.append(receipt.message_id)

    with simulator(tmp_path, "--scenario", "dlr-before-response") as sim:
        async with SmppClient(sim.client_config(), on_deliver) as client:
            for i in range(10):
                outcome = await client.submit(request(i))
                assert isinstance(outcome, PartAccepted)
                known.add(outcome.message_id)
            await eventually(lambda: unacked(sim) == 0)
    assert sorted(parked) == sorted(known)


async def test_a_callback_that_fails_makes_the_carrier_deliver_again(tmp_path: Path) -> None:
    attempts: dict[str, int] = {}

    async def flaky_store(pdu: DeliverSm) -> None:
        message_id = parse_receipt(pdu).message_id
        attempts[message_id] = attempts.get(message_id, 0) + 1
        if attempts[message_id] == 1:
            raise RuntimeError("store unavailable")

    with simulator(tmp_path, "--redeliver-after", "0.2", "--dlr-delay", "0,0.05") as sim:
        async with SmppClient(sim.client_config(), flaky_store) as client:
            for i in range(5):
                assert isinstance(await client.submit(request(i)), PartAccepted)
            await eventually(lambda: unacked(sim) == 0)
        with sim.record() as record:
            deliveries = record.deliveries()
    assert sorted(attempts.values()) == [2] * 5
    assert [(attempts_, acked is not None) for _, _, attempts_, acked in deliveries] == [
        (2, True)
    ] * 5


async def test_recipients_reply_to_the_sender_with_the_configured_text(tmp_path: Path) -> None:
    inbox = Inbox()
    args = ("--mo-share", "1", "--mo-text", "Ja", "--mo-delay", "0.05,0.1")
    with simulator(tmp_path, *args) as sim:
        async with SmppClient(sim.client_config(), inbox) as client:
            await client.submit(
                SubmitRequest(
                    source="+4915112345678", destination="+491701112222", payload=b"Termin?"
                )
            )
            await inbox.wait_for(receipts=1, replies=1)
    [reply] = inbox.replies
    assert not is_receipt(reply)
    assert (reply.source_addr, reply.destination_addr, reply.short_message) == (
        "491701112222",
        "4915112345678",
        b"Ja",
    )
    assert (reply.dest_addr_ton, reply.dest_addr_npi) == (1, 1)


async def test_text_only_receipts_with_hex_ids_match_decimal_submit_ids(tmp_path: Path) -> None:
    seen: list[DeliverSm] = []

    async def keep(pdu: DeliverSm) -> None:
        seen.append(pdu)

    args = ("--scenario", "text-dlr", "--undeliverable", "1", "--undeliverable-error", "34")
    with simulator(tmp_path, *args, "--dlr-seconds") as sim:
        async with SmppClient(sim.client_config(), keep) as client:
            sent = [await client.submit(request(i)) for i in range(3)]
            await eventually(lambda: len(seen) == 3)
    receipts = [parse_receipt(pdu) for pdu in seen]
    assert all(pdu.tlvs == () for pdu in seen)
    assert {canonical_message_id(r.message_id, IdFormat.HEX) for r in receipts} == {
        canonical_message_id(o.message_id, IdFormat.DECIMAL)
        for o in sent
        if isinstance(o, PartAccepted)
    }
    assert {r.message_id for r in receipts}.isdisjoint(
        o.message_id for o in sent if isinstance(o, PartAccepted)
    )
    assert {(r.state, r.error_code) for r in receipts} == {(DeliveryState.UNDELIVERABLE, "034")}
    assert all(
        r.done_date is not None and r.done_date.second == r.done_date.second for r in receipts
    )


async def test_receipts_come_back_over_the_bind_their_submit_went_out_on(tmp_path: Path) -> None:
    """Two binds of one account: each gets the receipts of its own submits while it is bound
    (the transactional bind never carries a campaign's receipts); when a bind closes, what it
    was still owed goes out over the other one."""
    first, second = Inbox(), Inbox()
    with simulator(tmp_path, "--dlr-delay", "0.01,0.05") as sim:
        async with (
            SmppClient(sim.client_config(), first) as one,
            SmppClient(sim.client_config(), second) as two,
        ):
            mine = await asyncio.gather(*(one.submit(request(i)) for i in range(20)))
            theirs = await asyncio.gather(*(two.submit(request(100 + i)) for i in range(5)))
            await first.wait_for(receipts=20)
            await second.wait_for(receipts=5)
            await eventually(lambda: unacked(sim) == 0)
        assert {r.message_id for r in first.receipts} == {
            o.message_id for o in mine if isinstance(o, PartAccepted)
        }
        assert {r.message_id for r in second.receipts} == {
            o.message_id for o in theirs if isinstance(o, PartAccepted)
        }

    later = Inbox()
    (tmp_path / "closing").mkdir()
    with simulator(tmp_path / "closing", "--dlr-delay", "1.0,1.2") as sim:
        async with SmppClient(sim.client_config(), later):
            async with SmppClient(sim.client_config(), Inbox()) as leaving:
                sent = await asyncio.gather(*(leaving.submit(request(i)) for i in range(5)))
            await later.wait_for(receipts=5)  # the closed bind's receipts, over this one
    assert {r.message_id for r in later.receipts} == {
        o.message_id for o in sent if isinstance(o, PartAccepted)
    }


async def test_a_message_not_delivered_within_its_validity_period_is_reported_expired(
    tmp_path: Path,
) -> None:
    """The carrier sender gives each submit what is left of its message's validity; an SMSC
    that cannot deliver within it drops the message and reports it expired at its end."""
    with simulator(tmp_path, "--dlr-delay", "3,3") as sim:
        inbox = Inbox()
        async with SmppClient(sim.client_config(), inbox) as client:
            brief = replace(request(1), validity_period=format_relative_smpp_time(timedelta(0)))
            lasting = replace(
                request(2), validity_period=format_relative_smpp_time(timedelta(days=3))
            )
            started = time.monotonic()
            outcomes = [await client.submit(brief), await client.submit(lasting)]
            assert all(isinstance(o, PartAccepted) for o in outcomes)
            await inbox.wait_for(receipts=2)
            states = {r.message_id: r.state for r in inbox.receipts}
    ids = [o.message_id for o in outcomes if isinstance(o, PartAccepted)]
    assert states == {ids[0]: DeliveryState.EXPIRED, ids[1]: DeliveryState.DELIVERED}
    assert time.monotonic() - started >= 3  # the lasting one after its delivery delay
