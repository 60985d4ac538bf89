"""The simulator's record is the carrier's memory: it outlives SIGTERM, SIGKILL and restarts."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path

from adapters.smpp.client import SmppClient
from adapters.smpp.outcomes import PartAccepted, SubmitRequest
from adapters.smsc.reader import SmscRecord
from adapters.smsc.record import SCHEMA
from tests.support.smsc import Inbox, RunningSimulator, eventually, unacked


def request(i: int) -> SubmitRequest:
    return SubmitRequest(source="Kontor", destination=f"+49171{i:07d}", payload=b"p%d" % i)


async def submit_all(sim: RunningSimulator, numbers: range, inbox: Inbox | None = None) -> set[str]:
    async with SmppClient(sim.client_config(), inbox or Inbox()) as client:
        outcomes = await asyncio.gather(*(client.submit(request(i)) for i in numbers))
    assert all(isinstance(o, PartAccepted) for o in outcomes)
    return {o.message_id for o in outcomes if isinstance(o, PartAccepted)}


async def test_the_record_survives_sigterm_and_a_restart_continues_it(tmp_path: Path) -> None:
    sim = RunningSimulator(tmp_path / "smsc.sqlite", [])
    sim.start()
    try:
        first = await submit_all(sim, range(300))
        assert sim.stop(signal.SIGTERM) == 0
        with SmscRecord(sim.record_path) as record:
            assert {row.message_id for row in record.submits()} == first
        sim.start()
        second = await submit_all(sim, range(300, 310))
    finally:
        sim.stop()
    with SmscRecord(sim.record_path) as record:
        assert record.count_submits() == 310
        assert record.duplicates() == []
    assert first.isdisjoint(second)


async def test_every_answered_submit_is_in_the_record_even_after_sigkill(tmp_path: Path) -> None:
    sim = RunningSimulator(tmp_path / "smsc.sqlite", ["--dlr-delay", "60,60"])
    sim.start()
    try:
        accepted = await submit_all(sim, range(500))
        assert sim.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        sim.kill()
    with SmscRecord(sim.record_path) as record:
        assert {row.message_id for row in record.submits()} == accepted


async def test_receipts_owed_before_a_restart_are_delivered_after_it(tmp_path: Path) -> None:
    sim = RunningSimulator(tmp_path / "smsc.sqlite", ["--dlr-delay", "1,1.5"])
    sim.start()
    inbox = Inbox()
    try:
        accepted = await submit_all(sim, range(20))
        assert sim.stop(signal.SIGTERM) == 0
        assert unacked(sim) == 20
        sim.start()
        async with SmppClient(sim.client_config(), inbox):
            await inbox.wait_for(receipts=20)
            await eventually(lambda: unacked(sim) == 0)
    finally:
        sim.stop()
    assert {receipt.message_id for receipt in inbox.receipts} == accepted


async def test_a_record_from_before_validity_periods_were_kept_is_continued(
    tmp_path: Path,
) -> None:
    path = tmp_path / "smsc.sqlite"
    old_schema = SCHEMA.replace(",\n    validity_period TEXT NOT NULL DEFAULT ''", "")
    assert "validity_period" not in old_schema
    with sqlite3.connect(path) as db:
        db.executescript(old_schema)
    sim = RunningSimulator(path, [])
    sim.start()
    try:
        numbers = range(3)
        await submit_all(sim, numbers)
    finally:
        sim.stop()
    with SmscRecord(path) as record:
        assert [row.validity_period for row in record.submits()] == ["", "", ""]
