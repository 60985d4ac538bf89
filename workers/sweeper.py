"""The sweeper: closes reservations past their expiry (schedule time + validity) and moves the
remainder of expired credit lots to expired credit. It finds candidates in the read models and
lets the aggregates decide, so a stale read model can cause no wrong close."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.backend import Backend, open_backend
from kontor.settings import Settings
from projections import ledger_queries

log = logging.getLogger(__name__)


def sweep_once(backend: Backend, now: datetime) -> tuple[int, int]:
    """Close due reservations and expire due lots; returns (reservations closed, accounts)."""
    if backend.pool is None:
        raise RuntimeError("the sweeper needs PostgreSQL")
    due = ledger_queries.open_reservations_due(backend.pool, now)
    closed = backend.ledger.close_expired(due, now)
    accounts = ledger_queries.accounts_with_expired_lots(backend.pool, now)
    for account_id in accounts:
        backend.ledger.expire_lots(account_id, now)
    if closed or accounts:
        log.info("swept", extra={"reservations_closed": len(closed), "accounts": len(accounts)})
    return len(closed), len(accounts)


def run(
    settings: Settings, interval: float = 10.0, clock: Callable[[], datetime] | None = None
) -> int:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    backend = open_backend(settings, pool_size=2)
    now = clock or (lambda: datetime.now(UTC))
    try:
        while not stop.is_set():
            try:
                sweep_once(backend, now())
            except Exception:
                log.exception("sweep failed; retrying")
            stop.wait(interval)
    finally:
        backend.close()
    return 0
