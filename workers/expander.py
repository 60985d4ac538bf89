"""The expander: records the messages of due sends (campaigns, scheduled single sends) chunk by
chunk from their staged recipients, taking turns between sends so that two campaigns progress
side by side. Each chunk is saved with the send's progress in one transaction; a crashed or
duplicate expander resumes or collides, never records twice. Scheduled sends are found by
their time in the read model and released here, also after a restart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from adapters.backend import Backend, open_backend_patiently
from adapters.postgres.send_staging import Staging
from domain.messaging.exceptions import SendNotFoundError
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)
CHUNK = 500


def due_sends(backend: Backend, now: datetime, limit: int = 100) -> list[UUID]:
    if backend.pool is None:
        raise RuntimeError("the expander needs PostgreSQL")
    with backend.pool.connection() as conn:
        rows = conn.execute(
            "SELECT send_id FROM msg_sends WHERE state IN ('scheduled', 'sending')"
            " AND (schedule_at IS NULL OR schedule_at <= %s) ORDER BY created_at LIMIT %s",
            (now, limit),
        ).fetchall()
    return [row[0] for row in rows]


def expand_round(backend: Backend, staging: Staging, now: datetime) -> int:
    """Record one chunk of every due send; returns how many messages were recorded."""
    recorded = 0
    for send_id in due_sends(backend, now):
        try:
            send = backend.messaging.send(send_id)
        except SendNotFoundError:
            continue
        if not send.is_due(now):
            continue
        start = send.recorded
        chunk = staging.sealed_chunk(send_id, start, min(CHUNK, send.total - start))
        if not chunk:
            if backend.messaging.send(send_id).is_due(now):  # not cancelled meanwhile
                log.error("staged recipients missing", extra={"send_id": str(send_id)})
            continue
        try:
            backend.messaging.record_chunk(send, chunk)
        except IntegrityError:
            # Another expander recorded this chunk first, or the send changed since it was
            # loaded (cancelled while this chunk was read): the next round sees which.
            continue
        recorded += len(chunk)
        if start + len(chunk) >= send.total:
            staging.discard(send_id)
    return recorded


def run(settings: Settings, clock: Callable[[], datetime] | None = None) -> int:
    stop = stop_event_on_signals("expander")
    backend = open_backend_patiently(settings, pool_size=4)
    if backend.pool is None:
        raise RuntimeError("the expander needs PostgreSQL")
    staging = Staging(backend.pool, backend.keyring)
    staging.setup()
    now = clock or (lambda: datetime.now(UTC))
    try:
        while not stop.is_set():
            try:
                if not expand_round(backend, staging, now()):
                    stop.wait(0.2)
            except Exception:
                log.exception("expansion failed; retrying")
                stop.wait(1.0)
    finally:
        backend.close()
    return 0
