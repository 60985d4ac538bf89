"""Concurrent holds on one wallet, combined (a group commit).

Every send of an account reserves on the account's one Wallet aggregate. Sent one by one from
many request threads, the reservations collide on the wallet's version and retry, each retry
another load and save: throughput fell as concurrency rose (issue 16). Here the holds of one
account queue up; the first in the queue leads: it takes every hold waiting (up to
``MAX_BATCH``), reserves them with one load and one save (``Ledger.reserve_many``), hands each
its result, and passes the lead to the first hold that arrived meanwhile. No hold waits for a
timer: a batch is whatever arrived during the previous batch's round trip, so a lone send goes
at once and a crowd goes in a few transactions.

The guarantees are the ledger's: a hold never exceeds the credit or the limits (one wallet,
applied in order), each is idempotent per send and has its own reservation. Another process
holding on the same wallet still meets optimistic concurrency, and the batch is retried.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from uuid import UUID

from domain.ledger.application import Hold, Ledger
from domain.ledger.exceptions import LedgerError

MAX_BATCH = 200


@dataclass(eq=False)
class _Waiting:
    hold: Hold
    woken: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    done: bool = False
    result: UUID | BaseException | None = None


class ReservationBatcher:
    def __init__(self, ledger: Ledger, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queues: dict[UUID, deque[_Waiting]] = {}
        self.batches = 0
        """Transactions made, to see how much was combined."""

    def reserve(self, account_id: UUID, hold: Hold) -> UUID:
        """``Ledger.reserve`` of ``hold``, combined with the account's concurrent holds."""
        me = _Waiting(hold)
        with self._lock:
            queue = self._queues.get(account_id)
            if queue is None:
                queue = self._queues[account_id] = deque()
                me.lead = True
            queue.append(me)
        while not me.done:
            if me.lead:
                self._lead(account_id)
            else:
                me.woken.wait()
                me.woken.clear()
        if isinstance(me.result, BaseException):
            raise me.result
        if me.result is None:  # pragma: no cover - every batch answers each of its holds
            raise RuntimeError("a hold was not answered")
        return me.result

    def _lead(self, account_id: UUID) -> None:
        with self._lock:
            queue = self._queues[account_id]
            batch = [queue.popleft() for _ in range(min(self.max_batch, len(queue)))]
        try:
            results: list[UUID | LedgerError] | None = self.ledger.reserve_many(
                account_id, [w.hold for w in batch]
            )
            failure: BaseException | None = None
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
                del self._queues[account_id]
        for waiting in batch:
            waiting.woken.set()
