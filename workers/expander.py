"""The expander worker: rounds of ``services.expansion`` and of the list campaigns' acceptance
(``services.list_acceptance``) while there is work, a short wait when there is none. Scheduled
sends are found by their time in the read model and released there, also after a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.backend import open_backend_patiently
from adapters.contacts.optouts import PostgresOptOuts
from adapters.postgres.acceptance_jobs import PostgresAcceptanceJobs
from adapters.postgres.send_staging import Staging
from adapters.pricelist import load_preview_rules
from projections.messaging_queries import ReadModelDueSends, ReadModelMonthVolume
from services.acceptance import SendAcceptance
from services.expansion import Expander
from services.list_acceptance import ListAcceptance
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)


def run(settings: Settings, clock: Callable[[], datetime] | None = None) -> int:
    stop = stop_event_on_signals("expander")
    backend = open_backend_patiently(settings, pool_size=4)
    if backend.pool is None:
        raise RuntimeError("the expander needs PostgreSQL")
    if backend.contact_services is None:  # pragma: no cover - with a pool there are lists
        raise RuntimeError("the expander needs the lists")
    pool = backend.pool
    staging = Staging(pool, backend.keyring)
    staging.setup()
    expander = Expander(backend.messaging, ReadModelDueSends(pool), staging)
    acceptance = SendAcceptance.configured(
        settings,
        backend,
        rules=load_preview_rules(),
        staging=staging,
        opt_outs=PostgresOptOuts(pool),
        month_volume=ReadModelMonthVolume(pool),
    )
    jobs = PostgresAcceptanceJobs(pool, backend.keyring, staging)
    jobs.setup()
    lists = ListAcceptance(acceptance, jobs, backend.contact_services)
    now = clock or (lambda: datetime.now(UTC))
    try:
        while not stop.is_set():
            try:
                worked = expander.expand_round(now())
                worked += lists.advance(now())
                if not worked:
                    stop.wait(0.2)
            except Exception:
                log.exception("expansion failed; retrying")
                stop.wait(1.0)
    finally:
        acceptance.close()
        backend.close()
    return 0
