"""The sweeper worker: every ``interval`` seconds, one round of ``services.sweeping``
(expired reservations and credit, unconfirmed messages, half-made registrations)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from adapters.backend import Backend, open_backend_patiently
from adapters.postgres.registrations import PostgresRegistrationLog
from projections.sweep import ReadModelCandidates
from services.registration import Registrations, Trial
from services.sweeping import Sweeper
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)


def sweeper_for(backend: Backend, settings: Settings) -> Sweeper:
    if backend.pool is None:
        raise RuntimeError("the sweeper needs PostgreSQL")
    trial = Trial(settings.trial_credit, timedelta(days=settings.trial_validity_days))
    return Sweeper(
        backend.ledger,
        backend.messaging,
        ReadModelCandidates(backend.pool),
        Registrations(backend.accounts, backend.ledger, trial),
        PostgresRegistrationLog(backend.accounts, backend.pool),
        validity=timedelta(hours=settings.message_validity_hours),
    )


def run(
    settings: Settings, interval: float = 10.0, clock: Callable[[], datetime] | None = None
) -> int:
    stop = stop_event_on_signals("sweeper")
    backend = open_backend_patiently(settings, pool_size=2)
    now = clock or (lambda: datetime.now(UTC))
    try:
        sweeper = sweeper_for(backend, settings)
        while not stop.is_set():
            try:
                sweeper.sweep(now())
            except Exception:
                log.exception("sweep failed; retrying")
            stop.wait(interval)
    finally:
        backend.close()
    return 0
