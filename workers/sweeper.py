"""The sweeper: closes reservations past their expiry (schedule time or acceptance, plus the
validity period), completing their sends (a send still held for review then ends, cancelled by
the system), and moves the remainder of expired credit lots to expired credit. It finds
candidates in the read models and lets the aggregates decide, so a stale read model can cause
no wrong close."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from adapters.backend import Backend, open_backend_patiently
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.records import DeliveryReport
from projections import ledger_queries, messaging_queries
from settings import Settings
from workers.runtime import stop_event_on_signals
from workers.settlement import finish_send

log = logging.getLogger(__name__)


def mark_unconfirmed(backend: Backend, now: datetime, validity: timedelta) -> int:
    """Messages without a final report after their validity period become unconfirmed."""
    if backend.pool is None:
        raise RuntimeError("the sweeper needs PostgreSQL")
    rows = messaging_queries.open_messages(
        backend.pool,
        send_id=None,
        account_id=None,
        older_than=now - validity,
        limit=5_000,
        states=("pending", "buffered"),
    )
    reports = [
        DeliveryReport(
            message_id=row["message_id"],
            send_id=row["send_id"],
            account_id=row["account_id"],
            part=0,
            carrier_id="",
            state="unknown",
            error_code=None,
            final=False,
            done_at=None,
            status_text="no final report within the validity period",
            received_at=now,
            source="validity",
        )
        for row in rows
    ]
    if reports:
        backend.messaging.record_deliveries("validity", reports)
    return len(reports)


def complete_send(backend: Backend, reservation_id: UUID, now: datetime) -> None:
    """A send whose reservation expired is complete: its unsent messages will not be sent (the
    carrier sender expires them; one still held for review records none) and no more money
    moves for it (see ``finish_send``)."""
    send_id = backend.ledger.reservation(reservation_id).send_id
    try:
        if backend.messaging.expire(send_id, now):
            log.info("send expired before it was recorded", extra={"send_id": str(send_id)})
        finish_send(backend, send_id, now)
    except SendNotFoundError:  # the acceptance died between reserving and recording the send
        log.info("expired reservation without a send", extra={"reservation": str(reservation_id)})
    except IntegrityError:  # settlement completed it at the same moment
        log.info("send completed meanwhile", extra={"send_id": str(send_id)})


def sweep_once(
    backend: Backend, now: datetime, validity: timedelta = timedelta(hours=72)
) -> tuple[int, int]:
    """Close due reservations, expire due lots, mark unconfirmed messages; returns
    (reservations closed, accounts with expired lots)."""
    if backend.pool is None:
        raise RuntimeError("the sweeper needs PostgreSQL")
    due = ledger_queries.open_reservations_due(backend.pool, now)
    closed = backend.ledger.close_expired(due, now)
    stuck = messaging_queries.expired_sends_not_completed(backend.pool, now)
    for reservation_id in dict.fromkeys([*closed, *stuck]):
        complete_send(backend, reservation_id, now)
    accounts = ledger_queries.accounts_with_expired_lots(backend.pool, now)
    for account_id in accounts:
        backend.ledger.expire_lots(account_id, now)
    unconfirmed = mark_unconfirmed(backend, now, validity)
    if closed or accounts or unconfirmed:
        log.info(
            "swept",
            extra={
                "reservations": len(closed),
                "accounts": len(accounts),
                "unconfirmed": unconfirmed,
            },
        )
    return len(closed), len(accounts)


def run(
    settings: Settings, interval: float = 10.0, clock: Callable[[], datetime] | None = None
) -> int:
    stop = stop_event_on_signals("sweeper")
    backend = open_backend_patiently(settings, pool_size=2)
    now = clock or (lambda: datetime.now(UTC))
    try:
        while not stop.is_set():
            try:
                sweep_once(backend, now(), timedelta(hours=settings.message_validity_hours))
            except Exception:
                log.exception("sweep failed; retrying")
            stop.wait(interval)
    finally:
        backend.close()
    return 0
