"""The projections worker: keeps the read models up to date with the notification logs — the
ledger's (journal, balances, lots, reservations) and messaging's (sends, messages, history,
replies), each in a thread of its own — and correlates the replies (``workers.replies``).
Several workers can run; they take turns per batch.

An event a projection cannot apply holds that projection only (``projections.runner``). The
process is ready (``workers.runtime.READINESS``) once each runner has caught up with its log as
it was when the worker started, or is held before it: "Kontor is up" then means that the read
models show what was recorded before, not that they will in a minute."""

from __future__ import annotations

import logging
import threading

from adapters.backend import Backend, open_backend_patiently
from projections.ledger_balances import BalancesProjection
from projections.ledger_journal import JournalProjection
from projections.messaging import MessagingProjection
from projections.runner import Projection, ProjectionRunner
from settings import Settings
from workers.replies import replies_runner, runner_pool, status_runner
from workers.runtime import READINESS, stop_event_on_signals

log = logging.getLogger(__name__)


def ledger_runner(backend: Backend) -> ProjectionRunner:
    if backend.pool is None:
        raise RuntimeError("projections need PostgreSQL")
    projections: list[Projection] = [JournalProjection(), BalancesProjection()]
    return ProjectionRunner(backend.ledger, projections, backend.pool)


def messaging_runner(backend: Backend) -> ProjectionRunner:
    if backend.pool is None:
        raise RuntimeError("projections need PostgreSQL")
    return ProjectionRunner(backend.messaging, [MessagingProjection()], backend.pool, batch_size=50)


def run(settings: Settings) -> int:
    stop = stop_event_on_signals("projections")
    backend = open_backend_patiently(settings, pool_size=6)
    own, own_status = runner_pool(backend), runner_pool(backend)
    runners = [
        ledger_runner(backend),
        messaging_runner(backend),
        replies_runner(backend, own, settings.public_url),
        status_runner(backend, own_status),
    ]
    threads = [
        threading.Thread(
            target=r.run_forever,
            args=(stop, 0.05),
            kwargs={"on_caught_up": READINESS.hold(f"{r.app.name} projections catching up")},
            name=r.app.name,
        )
        for r in runners
    ]
    for thread in threads:
        thread.start()
    log.info("projections running")
    try:
        for thread in threads:
            thread.join()
    finally:
        own.close()
        own_status.close()
        backend.close()
    return 0
