"""The bind's pace: a ceiling, a pause and a halving on 0x58, recovery afterwards."""

from __future__ import annotations

import asyncio

import pytest

from adapters.smpp.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sends_within(limiter: RateLimiter, clock: Clock, seconds: float) -> int:
    """How many sends the limiter allows in ``seconds``, when callers wait as told."""
    end = clock.now + seconds
    count = 0
    while True:
        wait = limiter.reserve()
        if clock.now + wait >= end:
            return count
        clock.now += wait
        count += 1


def test_without_a_ceiling_nothing_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(None, clock=clock)
    assert all(limiter.reserve() == 0 for _ in range(1000))


def test_a_ceiling_spaces_sends_evenly() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock)
    assert sends_within(limiter, clock, 2.0) == pytest.approx(200, abs=1)


def test_throttling_pauses_every_sender_and_halves_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock, pause=0.5)
    limiter.on_throttled()
    assert limiter.reserve() == pytest.approx(0.5)
    assert limiter.rate == 50
    clock.now += 0.5
    assert sends_within(limiter, clock, 1.0) == pytest.approx(50, abs=1)


def test_answers_to_submits_sent_before_a_halving_do_not_halve_again() -> None:
    clock = Clock()
    limiter = RateLimiter(400, clock=clock)
    sent_at = clock.now
    clock.now += 0.05
    for _ in range(64):
        limiter.on_throttled(sent_at)
        clock.now += 0.01
    assert limiter.rate == 200
    assert limiter.throttles == 64
    limiter.on_throttled(sent_at=clock.now)
    assert limiter.rate == 100


def test_throttling_that_goes_on_after_the_pause_doubles_the_pause() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock, pause=0.25)
    limiter.on_throttled()
    clock.now = limiter.paused_until + 0.01
    limiter.on_throttled(sent_at=clock.now)
    assert limiter.paused_until - clock.now == pytest.approx(0.5)


def test_without_a_ceiling_throttling_halves_the_rate_actually_sent() -> None:
    clock = Clock()
    limiter = RateLimiter(None, clock=clock)
    for _ in range(300):
        clock.now += 1 / 300
        limiter.reserve()
    clock.now += 0.01
    limiter.on_throttled()
    assert limiter.rate == pytest.approx(150, rel=0.05)


def test_the_rate_recovers_to_the_ceiling_after_quiet_seconds() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock, recover_after=2.0)
    limiter.on_throttled()
    rates: list[float] = []
    for _ in range(8):
        clock.now += 1.0
        limiter.reserve()
        assert limiter.rate is not None
        rates.append(limiter.rate)
    assert rates[0] == 50
    assert rates == sorted(rates)
    assert rates[-1] == 100


def test_the_rate_never_stays_above_what_the_smsc_accepted_last_second() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    for _ in range(120):
        clock.now += 1 / 120
        limiter.on_accepted()
    clock.now += 0.01
    limiter.on_throttled()
    assert limiter.rate == 120


async def test_waiting_senders_follow_a_pause_that_starts_while_they_wait() -> None:
    limiter = RateLimiter(50)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    limiter.on_throttled()
    started = limiter.now()
    await waiter
    assert limiter.now() - started >= 0.24
