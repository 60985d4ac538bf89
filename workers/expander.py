"""The expander worker: rounds of ``services.expansion`` while there is work, a short wait
when there is none. Scheduled sends are found by their time in the read model and released
there, also after a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.backend import open_backend_patiently
from adapters.postgres.send_staging import Staging
from projections.messaging_queries import ReadModelDueSends
from services.expansion import Expander
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)


def run(settings: Settings, clock: Callable[[], datetime] | None = None) -> int:
    stop = stop_event_on_signals("expander")
    backend = open_backend_patiently(settings, pool_size=4)
    if backend.pool is None:
        raise RuntimeError("the expander needs PostgreSQL")
    staging = Staging(backend.pool, backend.keyring)
    staging.setup()
    expander = Expander(backend.messaging, ReadModelDueSends(backend.pool), staging)
    now = clock or (lambda: datetime.now(UTC))
    try:
        while not stop.is_set():
            try:
                if not expander.expand_round(now()):
                    stop.wait(0.2)
            except Exception:
                log.exception("expansion failed; retrying")
                stop.wait(1.0)
    finally:
        backend.close()
    return 0
