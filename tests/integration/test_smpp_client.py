"""The SMPP client against the simulator as a real process: bind, submit, receipts, window."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.smpp.client import SmppClient
from adapters.smpp.constants import CommandStatus
from adapters.smpp.errors import BindError, QueryError
from adapters.smpp.message_id import canonical_message_id
from adapters.smpp.outcomes import NotSent, PartAccepted, SubmitRequest
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import DeliveryState, parse_receipt
from tests.support.smsc import Inbox, eventually, simulator, stat, unacked


def request(i: int = 0, **kwargs: object) -> SubmitRequest:
    values: dict[str, object] = {
        "source": "Kontor",
        "destination": f"+49170{i:07d}",
        "payload": f"Nachricht {i}".encode(),
    }
    values.update(kwargs)
    return SubmitRequest(**values)  # type: ignore[arg-type]


async def test_a_wrong_password_fails_the_bind_with_the_smscs_status(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim:
        client = SmppClient(sim.client_config(password="wrong"), Inbox())
        with pytest.raises(BindError) as caught:
            await client.start()
        assert caught.value.command_status == CommandStatus.ESME_RINVPASWD
        await eventually(lambda: stat(sim, "bind_failures") == 1)
        assert stat(sim, "binds") == 0


async def test_a_submit_is_accepted_and_its_receipt_acknowledged_only_after_the_callback(
    tmp_path: Path,
) -> None:
    stored = asyncio.Event()
    release = asyncio.Event()
    seen: list[DeliverSm] = []

    async def store_slowly(pdu: DeliverSm) -> None:
        seen.append(pdu)
        stored.set()
        await release.wait()

    with simulator(tmp_path, "--dlr-delay", "0.05,0.1") as sim:
        async with SmppClient(sim.client_config(), store_slowly) as client:
            outcome = await client.submit(request(1))
            assert isinstance(outcome, PartAccepted)
            await asyncio.wait_for(stored.wait(), 10)
            await asyncio.sleep(0.3)  # the simulator would have its answer by now
            with sim.record() as record:
                assert record.deliveries() == [(outcome.message_id, "delivered", 0, None)]
            release.set()
            await eventually(lambda: unacked(sim) == 0)
            with sim.record() as record:
                [(message_id, _state, attempts, acked_at)] = record.deliveries()
                submitted = record.submit(outcome.message_id)
        receipt = parse_receipt(seen[0])
        assert receipt.message_id == outcome.message_id == message_id
        assert receipt.state is DeliveryState.DELIVERED
        assert (attempts, acked_at is not None) == (1, True)
        assert submitted is not None
        assert submitted.destination_addr == "491700000001"
        assert (submitted.source_ton, submitted.source_npi) == (5, 0)
        assert bytes.fromhex(submitted.payload_hex) == b"Nachricht 1"


async def test_every_part_of_a_concatenated_message_gets_its_own_id_and_receipt(
    tmp_path: Path,
) -> None:
    parts = [bytes.fromhex(f"050003a703{n:02x}") + f"Teil {n}".encode() for n in (1, 2, 3)]
    inbox = Inbox()
    with simulator(tmp_path) as sim:
        async with SmppClient(sim.client_config(), inbox) as client:
            outcomes = [await client.submit(request(7, payload=p, esm_class=0x40)) for p in parts]
            await inbox.wait_for(receipts=3)
        with sim.record() as record:
            rows = record.submits(destination="+491700000007")
    ids = [o.message_id for o in outcomes if isinstance(o, PartAccepted)]
    assert len(set(ids)) == 3
    assert sorted(r.message_id for r in inbox.receipts) == sorted(ids)
    assert [(r.udh_ref, r.udh_part, r.udh_total, r.esm_class) for r in rows] == [
        (0xA7, n, 3, 0x40) for n in (1, 2, 3)
    ]


async def test_the_client_never_has_more_submits_outstanding_than_its_window(
    tmp_path: Path,
) -> None:
    with simulator(tmp_path, "--response-delay", "0.01,0.03") as sim:
        async with SmppClient(sim.client_config(window=8), Inbox()) as client:
            outcomes = await asyncio.gather(*(client.submit(request(i)) for i in range(300)))
        with sim.record() as record:
            max_seen = record.stat("max_in_flight")
            recorded = record.count_submits()
    assert all(isinstance(o, PartAccepted) for o in outcomes)
    assert recorded == 300
    assert max_seen == 8  # the window filled, and was never exceeded
    assert client.max_in_flight == 8


async def test_an_idle_bind_sends_enquire_link_and_stays_usable(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim:
        async with SmppClient(sim.client_config(enquire_link_interval=0.2), Inbox()) as client:
            await asyncio.sleep(1.1)
            assert client.bound
            assert isinstance(await client.submit(request()), PartAccepted)
        await eventually(lambda: stat(sim, "enquire_links") >= 3)
        assert stat(sim, "binds") == 1


async def test_closing_unbinds_and_later_submits_are_not_sent(tmp_path: Path) -> None:
    with simulator(tmp_path) as sim:
        client = SmppClient(sim.client_config(), Inbox())
        await client.start()
        await client.close()
        assert await client.submit(request()) == NotSent("client closed")
        await eventually(lambda: stat(sim, "unbinds") == 1)
        with sim.record() as record:
            assert record.count_submits() == 0


async def test_query_sm_reports_the_current_state_of_a_message(tmp_path: Path) -> None:
    inbox = Inbox()
    with simulator(tmp_path, "--dlr-delay", "0.1,0.2", "--id-format", "hex") as sim:
        async with SmppClient(sim.client_config(), inbox) as client:
            sent = await client.submit(request(3))
            assert isinstance(sent, PartAccepted)
            before = await client.query(sent.message_id, "Kontor")
            await inbox.wait_for(receipts=1)
            after = await client.query(sent.message_id, "Kontor")
            with pytest.raises(QueryError) as unknown:
                await client.query("FFFFFFF", "Kontor")
    assert (before.state, before.final_date) == (DeliveryState.ENROUTE, None)
    assert after.state is DeliveryState.DELIVERED
    assert after.final_date is not None
    assert canonical_message_id(after.message_id) == canonical_message_id(sent.message_id)
    assert unknown.value.command_status == CommandStatus.ESME_RQUERYFAIL
