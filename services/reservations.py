"""Concurrent holds on one wallet, combined (a group commit, ``services.group_commit``).

Every send of an account reserves on the account's one Wallet aggregate. Sent one by one from
many request threads, the reservations collide on the wallet's version and retry, each retry
another load and save: throughput fell as concurrency rose (issue 16). Here the holds of one
account queue up and the first in the queue reserves every hold waiting with one load and one
save (``Ledger.reserve_many``).

The guarantees are the ledger's: a hold never exceeds the credit or the limits (one wallet,
applied in order), each is idempotent per send and has its own reservation. Another process
holding on the same wallet still meets optimistic concurrency, and the batch is retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.ledger.application import Hold, Ledger
from domain.ledger.exceptions import LedgerError
from services.group_commit import MAX_BATCH, GroupCommit

Held = list[UUID | LedgerError]


class ReservationBatcher:
    def __init__(self, ledger: Ledger, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self._commit: GroupCommit[UUID, Sequence[Hold], Held] = GroupCommit(
            self._reserve, max_batch
        )

    @property
    def batches(self) -> int:
        """Transactions made, to see how much was combined."""
        return self._commit.batches

    def idle(self) -> bool:
        return self._commit.idle()

    def reserve_many(self, account_id: UUID, holds: Sequence[Hold]) -> Held:
        """``Ledger.reserve_many`` of ``holds``, combined with the account's concurrent holds."""
        return self._commit.submit(account_id, holds)

    def _reserve(self, account_id: UUID, requests: list[Sequence[Hold]]) -> list[Held | Exception]:
        flat = [hold for holds in requests for hold in holds]
        results = self.ledger.reserve_many(account_id, flat)
        answers: list[Held | Exception] = []
        start = 0
        for holds in requests:
            answers.append(list(results[start : start + len(holds)]))
            start += len(holds)
        return answers
