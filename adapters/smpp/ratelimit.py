"""The pace of submits on one bind: an optional ceiling, and backing off when throttled.

Senders queue on one FIFO lock and each books its send time only when it reaches the head, so
a change of rate or a pause applies at once to everyone still waiting (booking slots ahead for
a crowd of waiters would keep them at the old pace for seconds). Without a ceiling and without
a pause nobody waits and the lock is skipped.

When the SMSC answers 0x58 (``on_throttled``) the limiter pauses every sender (for ``pause``,
doubling while throttles keep coming, up to ``pause_max``) and halves the rate: the configured
one, or the rate actually sent lately when none is configured, and never above the rate the
SMSC accepted over the last full second (``on_accepted``), its best estimate of what it allows.
Like TCP's once-per-round-trip rule, only a submit sent after the last halving halves again:
the answers to submits already in flight carry no news about the new rate. After
``recover_after`` seconds without a throttle the rate grows by ``recovery`` each second, up to
the ceiling (or back to unlimited): multiplicative, because additive increase would take minutes
to regain a 5,000/s bind. The clock is injected, so the unit tests run without sleeping.
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
        self._lock = asyncio.Lock()
        self._next_slot = float("-inf")
        self.paused_until = float("-inf")
        self._last_throttle = float("-inf")
        self._last_halving = float("-inf")
        self._last_recovery = float("-inf")
        self._sent = Meter(clock)
        self._accepted = Meter(clock)
        self.throttles = 0

    def now(self) -> float:
        return self._clock()

    def reserve(self) -> float:
        """Book the next send; return how many seconds to wait before it."""
        now = self._clock()
        self._sent.add(now)
        self._recover(now)
        start = max(now, self.paused_until, self._next_slot)
        if self.rate is not None:
            self._next_slot = start + 1.0 / self.rate
        return start - now

    async def acquire(self) -> None:
        if self.rate is None and not self._lock.locked() and self._clock() >= self.paused_until:
            self.reserve()
            return
        async with self._lock:
            wait = self.reserve()
            while wait > 0:
                await asyncio.sleep(wait)
                wait = self.paused_until - self._clock()  # a throttle came in meanwhile

    def on_accepted(self) -> None:
        self._accepted.add(self._clock())

    def on_throttled(self, sent_at: float | None = None) -> None:
        """A 0x58 answer to a submit sent at ``sent_at`` (limiter clock; ``None``: just now)."""
        now = self._clock()
        sent_at = now if sent_at is None else sent_at
        self.throttles += 1
        fresh = sent_at > self._last_halving
        if now - self._last_throttle > max(self._pause * 2, self._recover_after):
            self._pause = self._pause_initial
        elif fresh and sent_at >= self.paused_until:
            self._pause = min(self._pause * 2, self._pause_max)
        self._last_throttle = now
        self._last_recovery = now
        self.paused_until = max(self.paused_until, now + self._pause)
        if not fresh:
            return
        self._last_halving = now
        base = self.rate if self.rate is not None else self._sent.rate(now)
        accepted = self._accepted.full_second(now)
        halved = min(base / 2, accepted) if accepted else base / 2
        self.rate = max(self.min_rate, halved)
        self._next_slot = self.paused_until

    def _recover(self, now: float) -> None:
        if self.rate is None or now - self._last_throttle < self._recover_after:
            return
        if now - self._last_recovery < 1.0:
            return
        self._last_recovery = now
        grown = self.rate * self._recovery
        if self.max_rate is None:
            # Unlimited again once the ceiling we imposed is far above what is being sent.
            self.rate = None if grown > 4 * max(self._sent.rate(now), 1.0) else grown
        else:
            self.rate = min(grown, self.max_rate)


class Meter:
    """Events per second: the count of the last full second, or the pace so far in the first."""

    __slots__ = ("_count", "_previous", "_start")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._start = clock()
        self._count = 0
        self._previous = 0

    def add(self, now: float) -> None:
        self._roll(now)
        self._count += 1

    def rate(self, now: float) -> float:
        self._roll(now)
        if self._previous:
            return float(self._previous)
        return self._count / max(now - self._start, 0.1)

    def full_second(self, now: float) -> float:
        """The count of the last full second (0 until one has passed)."""
        self._roll(now)
        return float(self._previous)

    def _roll(self, now: float) -> None:
        elapsed = now - self._start
        if elapsed >= 1.0:
            self._previous = self._count if elapsed < 2.0 else 0
            self._count = 0
            self._start = now
