"""The pace of submits on one bind: an optional ceiling, and backing off when throttled.

``reserve()`` hands out send times one after another, ``1/rate`` apart, so concurrent callers
need no lock and no burst builds up after an idle spell. When the SMSC answers 0x58
(``on_throttled``) the limiter pauses every sender (for ``pause``, doubling while throttles keep
coming, up to ``pause_max``) and halves the rate (the configured one, or the rate actually
observed over the last second when none is configured). After ``recover_after`` seconds without
a throttle the rate grows by ``recovery`` per second again, back up to the configured ceiling:
additive-increase would take minutes to regain a 5,000/s bind, multiplicative takes seconds.
The clock is injected, so the unit tests run without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        max_rate: float | None = None,
        *,
        min_rate: float = 1.0,
        pause: float = 0.25,
        pause_max: float = 5.0,
        recover_after: float = 2.0,
        recovery: float = 1.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_rate = max_rate
        self.rate = max_rate
        self.min_rate = min_rate
        self._pause_initial = pause
        self._pause = pause
        self._pause_max = pause_max
        self._recover_after = recover_after
        self._recovery = recovery
        self._clock = clock
        self._next_slot = 0.0
        self.paused_until = 0.0
        self._last_throttle = float("-inf")
        self._last_recovery = 0.0
        self._bucket_start = clock()
        self._bucket = 0
        self._previous_bucket = 0
        self.throttles = 0

    def reserve(self) -> float:
        """Book the next send; return how many seconds to wait before it."""
        now = self._clock()
        self._count(now)
        self._recover(now)
        start = max(now, self.paused_until, self._next_slot)
        if self.rate is not None:
            self._next_slot = start + 1.0 / self.rate
        return start - now

    async def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)

    def on_throttled(self) -> None:
        now = self._clock()
        self.throttles += 1
        if now - self._last_throttle > self._pause * 2:
            self._pause = self._pause_initial
        elif now >= self.paused_until:
            self._pause = min(self._pause * 2, self._pause_max)
        self.paused_until = max(self.paused_until, now + self._pause)
        if now >= self._last_throttle + self._pause_initial:
            # One halving per throttled spell: a window of 64 refused submits is one signal.
            base = self.rate if self.rate is not None else max(self.observed_rate, self.min_rate)
            self.rate = max(self.min_rate, base / 2)
            self._next_slot = self.paused_until
        self._last_throttle = now
        self._last_recovery = now

    @property
    def observed_rate(self) -> float:
        """Sends per second: over the last full second, or so far in the first one."""
        if self._previous_bucket:
            return float(self._previous_bucket)
        elapsed = max(self._clock() - self._bucket_start, 0.1)
        return self._bucket / elapsed

    def _count(self, now: float) -> None:
        if now - self._bucket_start >= 1.0:
            elapsed = now - self._bucket_start
            self._previous_bucket = self._bucket if elapsed < 2.0 else 0
            self._bucket = 0
            self._bucket_start = now
        self._bucket += 1

    def _recover(self, now: float) -> None:
        if self.rate is None or now - self._last_throttle < self._recover_after:
            return
        if now - self._last_recovery < 1.0:
            return
        self._last_recovery = now
        grown = self.rate * self._recovery
        if self.max_rate is None:
            # Unlimited again once the ceiling we imposed is far above what is being sent.
            self.rate = None if grown > 4 * max(self.observed_rate, 1.0) else grown
        else:
            self.rate = min(grown, self.max_rate)
