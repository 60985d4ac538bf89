"""The bind's pace: a ceiling, a pause and a halving on 0x58, recovery afterwards."""

from __future__ import annotations

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


def test_a_burst_of_throttled_answers_halves_only_once() -> None:
    clock = Clock()
    limiter = RateLimiter(400, clock=clock)
    for _ in range(64):
        limiter.on_throttled()
    assert limiter.rate == 200
    assert limiter.throttles == 64


def test_throttling_that_goes_on_after_the_pause_doubles_the_pause() -> None:
    clock = Clock()
    limiter = RateLimiter(100, clock=clock, pause=0.25)
    limiter.on_throttled()
    clock.now = limiter.paused_until + 0.01
    limiter.on_throttled()
    assert limiter.paused_until - clock.now == pytest.approx(0.5)


def test_without_a_ceiling_throttling_halves_the_rate_actually_observed() -> None:
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
