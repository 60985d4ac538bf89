"""The SMSC simulator as a real process for tests, and an inbox for a client.

``simulator(tmp_path, *flags)`` runs ``python -m kontor smsc-sim --port 0`` tied to this
process, waits for its ready line and stops it with SIGTERM at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters.smpp.config import ClientConfig
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import Receipt, is_receipt, parse_receipt
from adapters.smsc.process import SimulatorProcess
from adapters.smsc.reader import SmscRecord
from tests.support.servers import ROOT

ACCOUNT = ("kontor", "secret")


class RunningSimulator(SimulatorProcess):
    def __init__(self, record: Path, args: list[str]) -> None:
        super().__init__(record, args, account=ACCOUNT, cwd=ROOT)

    def client_config(self, **overrides: Any) -> ClientConfig:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "system_id": ACCOUNT[0],
            "password": ACCOUNT[1],
            "response_timeout": 5.0,
            "reconnect_initial": 0.05,
            "reconnect_max": 0.5,
        }
        values.update(overrides)
        return ClientConfig(**values)

    def record(self) -> SmscRecord:
        return SmscRecord(self.record_path)


@contextlib.contextmanager
def simulator(directory: Path, *args: str) -> Iterator[RunningSimulator]:
    sim = RunningSimulator(directory / "smsc.sqlite", list(args))
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


class Inbox:
    """What a client's ``on_deliver`` received: receipts and replies, in arrival order."""

    def __init__(self) -> None:
        self.receipts: list[Receipt] = []
        self.replies: list[DeliverSm] = []
        self._changed = asyncio.Event()

    async def __call__(self, pdu: DeliverSm) -> None:
        if is_receipt(pdu):
            self.receipts.append(parse_receipt(pdu))
        else:
            self.replies.append(pdu)
        self._changed.set()

    async def wait_for(self, receipts: int = 0, replies: int = 0, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.receipts) < receipts or len(self.replies) < replies:
                self._changed.clear()
                await self._changed.wait()


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds: the simulator commits its counters a moment after it
    answers, so a test polls for them instead of sleeping a guessed time."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def stat(sim: RunningSimulator, key: str) -> int:
    with sim.record() as record:
        return record.stat(key)


def unacked(sim: RunningSimulator) -> int:
    with sim.record() as record:
        return record.unacked_deliveries()
