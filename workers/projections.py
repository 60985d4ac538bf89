"""The projections worker: keeps the ledger's read models (journal, balances, lots,
reservations) up to date with its notification log. Several can run; they take turns per batch."""

from __future__ import annotations

import logging
import signal
import threading

from adapters.backend import Backend, open_backend
from kontor.settings import Settings
from projections.ledger_balances import BalancesProjection
from projections.ledger_journal import JournalProjection
from projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


def ledger_runner(backend: Backend) -> ProjectionRunner:
    if backend.pool is None:
        raise RuntimeError("projections need PostgreSQL")
    return ProjectionRunner(
        backend.ledger, [JournalProjection(), BalancesProjection()], backend.pool
    )


def run(settings: Settings) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    backend = open_backend(settings, pool_size=4)
    runner = ledger_runner(backend)
    log.info("projections running")
    try:
        runner.run_forever(stop)
    finally:
        backend.close()
    return 0
