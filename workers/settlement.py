"""The settlement worker: follows the Messaging notification log (carrier reports, recorded
chunks and cancellations) on a tracked position and hands each batch to
``services.settlement``, which captures, releases, closes and completes. The view of this
"projection" is the Ledger; its position is saved only after the batch is settled, so a crash
repeats a batch, which the ledger's per-message idempotency makes harmless."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic

from adapters.backend import Backend, open_backend_patiently
from adapters.postgres.send_staging import Staging
from domain.messaging.batches import CarrierReport
from domain.messaging.send import Send
from projections.runner import ProjectionRunner
from services.settlement import Settlement
from settings import Settings
from workers.runtime import stop_event_on_signals


class SettlementFollower:
    """A projection whose "view" is the Ledger: see ``ProjectionRunner``."""

    name = "settlement"
    topics = (
        get_topic(CarrierReport.Recorded),
        get_topic(Send.Cancelled),
        get_topic(Send.ChunkRecorded),
    )

    def __init__(self, backend: Backend) -> None:
        if backend.pool is None:
            raise RuntimeError("settlement needs PostgreSQL")
        self.staging = Staging(backend.pool, backend.keyring)
        self.settlement = Settlement(backend.ledger, backend.messaging, self.staging)

    def setup(self, conn: Any) -> None:
        """The ledger is event-sourced; only the staged recipients' table must exist."""
        self.staging.setup()

    def process(self, conn: Any, events: Sequence[tuple[int, Any]]) -> None:
        self.settlement.settle((event for _, event in events), datetime.now(UTC))


def settlement_runner(backend: Backend) -> ProjectionRunner:
    if backend.pool is None:
        raise RuntimeError("settlement needs PostgreSQL")
    follower = SettlementFollower(backend)
    return ProjectionRunner(
        backend.messaging, [follower], backend.pool, batch_size=50, topics=follower.topics
    )


def run(settings: Settings) -> int:
    stop = stop_event_on_signals("settlement")
    backend = open_backend_patiently(settings, pool_size=4)
    try:
        settlement_runner(backend).run_forever(stop, idle_wait=0.1)
    finally:
        backend.close()
    return 0
