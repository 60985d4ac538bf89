"""Concurrent requests combined into one unit of work (a group commit).

Request threads that each would make the same kind of transaction queue up under a key; the
first in a queue leads: it takes every item waiting (up to ``max_batch``), runs them as one
batch, hands each its own result (or its own refusal), and passes the lead to the first item
that arrived meanwhile. No item waits for a timer: a batch is whatever arrived while the
previous batch was in its round trips, so a lone request goes at once and a crowd goes in a few
transactions. If the batch as a whole fails, every item of it gets that failure, and the next
batch still goes.

Used for the holds of one wallet (``services.reservations``) and for single sends
(``services.acceptance``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
I = TypeVar("I")  # noqa: E741 - the item, as in the library's own generics
R = TypeVar("R")

MAX_BATCH = 200

Batch = Callable[[K, list[I]], Sequence[R | Exception]]
"""Runs one batch of a key: each item's result or refusal, in the items' order."""


@dataclass(eq=False)
class _Waiting(Generic[I, R]):
    item: I
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False
    result: R | BaseException | None = None


class GroupCommit(Generic[K, I, R]):
    def __init__(self, run: Batch[K, I, R], max_batch: int = MAX_BATCH) -> None:
        self.run = run
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queues: dict[K, deque[_Waiting[I, R]]] = {}
        self.batches = 0
        """Batches run, to see how much was combined."""

    def submit(self, key: K, item: I) -> R:
        """``item``'s result, run with the key's concurrent items; its refusal is raised."""
        me: _Waiting[I, R] = _Waiting(item)
        with self._lock:
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = deque()
                me.lead = True
            queue.append(me)
        while not me.done:
            if me.lead:
                self._lead(key)
            else:
                me.woken.wait()
                me.woken.clear()
        if isinstance(me.result, BaseException):
            raise me.result
        if me.result is None:  # pragma: no cover - every batch answers each of its items
            raise RuntimeError("an item was not answered")
        return me.result

    def idle(self) -> bool:
        """Nothing waiting and nobody leading."""
        with self._lock:
            return not self._queues

    def _lead(self, key: K) -> None:
        with self._lock:
            queue = self._queues[key]
            batch = [queue.popleft() for _ in range(min(self.max_batch, len(queue)))]
        results: Sequence[R | Exception] | None = None
        failure: BaseException | None = None
        try:
            results = self.run(key, [w.item for w in batch])
            if len(results) != len(batch):  # pragma: no cover - a broken batch function
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting request
            results, failure = None, exc
        with self._lock:
            self.batches += 1
            for n, waiting in enumerate(batch):
                waiting.result = failure if results is None else results[n]
                waiting.done = True
                waiting.lead = False
            if queue:
                successor = queue[0]
                successor.lead = True
                successor.woken.set()
            else:
                del self._queues[key]
        for waiting in batch:
            waiting.woken.set()
