"""A worker process is ready once one of its loops has come round (it asked its stop signal
twice), and not while something it holds readiness back for is pending."""

from __future__ import annotations

import asyncio
import threading

import pytest

from workers import runtime
from workers.runtime import LoopStop, Readiness, ThreadStop


@pytest.fixture
def readiness(monkeypatch: pytest.MonkeyPatch) -> Readiness:
    fresh = Readiness()
    monkeypatch.setattr(runtime, "READINESS", fresh)
    return fresh


def test_a_loop_that_asked_once_has_not_come_round(readiness: Readiness) -> None:
    stop = ThreadStop()
    assert not stop.is_set()
    assert not readiness.ready
    assert readiness.waiting_for() == ["a first round"]
    assert not stop.is_set()  # the same thread, before its second round
    assert readiness.ready


def test_two_loops_asking_once_each_are_not_a_round(readiness: Readiness) -> None:
    stop = ThreadStop()
    other = threading.Thread(target=stop.is_set)
    other.start()
    other.join()
    stop.is_set()
    assert not readiness.ready


def test_a_hold_keeps_a_process_that_came_round_from_being_ready(readiness: Readiness) -> None:
    release = readiness.hold("Ledger projections catching up")
    stop = ThreadStop()
    stop.is_set()
    stop.is_set()
    assert not readiness.ready
    assert readiness.waiting_for() == ["Ledger projections catching up"]
    release()
    assert readiness.ready


async def test_a_task_of_an_event_loop_worker_comes_round_like_a_thread(
    readiness: Readiness,
) -> None:
    stop = LoopStop()

    async def one_round() -> None:
        stop.is_set()
        await asyncio.sleep(0)

    await asyncio.gather(one_round(), one_round())  # two tasks, once each
    assert not readiness.ready

    async def two_rounds() -> None:
        while not stop.is_set():
            await asyncio.sleep(0)
            stop.set()

    await asyncio.create_task(two_rounds())
    assert readiness.ready


def test_a_stop_signal_still_stops(readiness: Readiness) -> None:
    stop = ThreadStop()
    stop.set()
    assert stop.is_set()
    assert stop.wait(0)


def test_a_loop_that_waits_after_its_round_has_come_round(readiness: Readiness) -> None:
    stop = ThreadStop()
    while not stop.is_set():  # the sweeper: a round, then a long wait
        stop.wait(0)
        break
    assert readiness.ready
