"""The SMSC simulator as a real process for tests and benchmarks, and an inbox for a client.

``start_simulator`` runs ``python -m kontor smsc-sim --port 0`` tied to this process
(``orphan_proof``), waits for its ready line and returns where it listens. Its stderr goes to
a log file next to the record, which a failing test prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters.process import orphan_proof
from adapters.smpp.config import ClientConfig
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import Receipt, is_receipt, parse_receipt
from adapters.smsc.reader import SmscRecord
from tests.support.servers import ROOT

ACCOUNT = ("kontor", "secret")


class RunningSimulator:
    def __init__(self, record: Path, args: list[str]) -> None:
        self.record_path = record
        self.args = args
        self.log_path = record.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.host = "127.0.0.1"

    def start(self, timeout: float = 30.0) -> None:
        argv = [sys.executable, "-m", "kontor", "smsc-sim", "--port", str(self.port)]
        argv += ["--record", str(self.record_path), "--account", ":".join(ACCOUNT), *self.args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
        env["KONTOR_LOG_LEVEL"] = "WARNING"
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                orphan_proof(argv), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log
            )
        ready = self._ready_line(timeout)
        self.host, self.port = ready["host"], int(ready["port"])

    def _ready_line(self, timeout: float) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([self.process.stdout], [], [], 0.1)
            if readable:
                line = self.process.stdout.readline()
                if line:
                    ready: dict[str, Any] = json.loads(line)
                    return ready
            if self.process.poll() is not None:
                break
        self.kill()
        raise RuntimeError(f"smsc-sim did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the simulator and wait; its exit code (negative: killed by a signal)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

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
