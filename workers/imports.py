"""The imports worker: runs queued list imports (``adapters.contacts.runner.ImportRunner``).

Several may run, on one machine or many: each claims a different job (``FOR UPDATE SKIP
LOCKED``). Big files are prepared by a pool of processes. Between jobs it records finished
imports in the audit trail and, now and then, deletes rejection reports older than
``REPORTS_KEPT``.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from adapters.backend import open_backend
from adapters.contacts import jobs
from adapters.contacts.parallel import RowPool
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)
IDLE_SECONDS = 0.5
REPORTS_KEPT = timedelta(days=30)
PURGE_EVERY = 3600.0


def run(settings: Settings) -> int:
    stop = stop_event_on_signals("imports")
    backend = open_backend(settings, pool_size=4)
    if backend.contact_services is None:
        raise RuntimeError("the imports worker needs PostgreSQL")
    row_pool = RowPool()
    row_pool.start()
    runner = backend.contact_services.runner(row_pool)
    log.info("imports worker running")
    purged_at = 0.0
    try:
        while not stop.is_set():
            try:
                if runner.run_next() is None:
                    runner.record_outcomes()
                    if time.monotonic() - purged_at > PURGE_EVERY:
                        jobs.purge_finished(runner.pool, REPORTS_KEPT)
                        purged_at = time.monotonic()
                    stop.wait(IDLE_SECONDS)
            except Exception:
                log.exception("imports worker step failed; retrying")
                stop.wait(5.0)
    finally:
        row_pool.close()
        backend.close()
    return 0
