"""A worker process's heartbeat row, as ``kontor up`` and ``/ready`` read it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import psycopg

from adapters.postgres.heartbeats import WorkerProcess, processes
from kontor.worker_reports import WorkerReports
from workers.heartbeat import Heartbeat
from workers.runtime import Readiness


def _row(url: str, name: str) -> WorkerProcess | None:
    with psycopg.connect(url) as conn:
        return next((p for p in processes(conn) if p.name == name), None)


def _until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


async def test_a_worker_reports_starting_then_ready_then_stopped(fresh_database_url: str) -> None:
    url = psycopg.conninfo.make_conninfo(fresh_database_url, application_name="kontor-relay-tx")
    readiness = Readiness()
    reports = WorkerReports(fresh_database_url)
    await reports.expect(["relay-tx", "relay"])
    assert {p.name: p.state for p in [_row(url, "relay-tx"), _row(url, "relay")] if p} == {
        "relay-tx": "not reported",
        "relay": "not reported",
    }
    heartbeat = Heartbeat(url, "relay", readiness=readiness, every=0.2).start()
    try:
        _until(lambda: (row := _row(url, "relay-tx")) is not None and row.state == "starting")
        assert not await reports.ready("relay-tx", os.getpid())
        release = readiness.hold("first round")
        readiness.loop_asked(1)
        readiness.loop_asked(1)
        release()
        _until(lambda: (row := _row(url, "relay-tx")) is not None and row.state == "ready")
        time.sleep(WorkerReports.FRESH_FOR)
        assert await reports.ready("relay-tx", os.getpid())
        assert not await reports.ready("relay-tx", os.getpid() + 1)  # another process's row
        row = _row(url, "relay-tx")
        assert row is not None
        assert (row.worker, row.pid, row.expected) == ("relay", os.getpid(), True)
    finally:
        heartbeat.stop()
        await reports.close()
    stopped = _row(url, "relay-tx")
    assert stopped is not None
    assert stopped.state == "stopped"
    untouched = _row(url, "relay")
    assert untouched is not None
    assert untouched.state == "not reported"
