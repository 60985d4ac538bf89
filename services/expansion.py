"""Expansion: records the messages of due sends (campaigns, scheduled single sends) chunk by
chunk from their staged recipients, one chunk of every due send per round, so that two
campaigns progress side by side.

Each chunk is saved with the send's progress in one transaction (``Messaging.record_chunk``): a
crashed or duplicate expander resumes or collides, never records twice. A send cancelled while
its chunk was read fails on its version and records nothing. Staged recipients of a send whose
last chunk is recorded are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.messaging.application import Messaging
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.records import RecordedMessage

log = logging.getLogger(__name__)
CHUNK = 500
"""Messages a chunk records at most (one ``MessageChunk`` event, one NATS batch)."""


class DueSends(Protocol):
    """Sends that may have messages to record now, oldest first (the read model; the send
    itself decides, so a stale row records nothing)."""

    def due_sends(self, now: datetime, limit: int) -> Sequence[UUID]: ...


class StagedChunks(Protocol):
    """The staged recipients (``adapters.postgres.send_staging.Staging``)."""

    def sealed_chunk(self, send_id: UUID, start: int, size: int) -> list[RecordedMessage]:
        """Messages ``start`` .. ``start + size - 1``, still sealed as staged."""
        ...

    def discard(self, send_id: UUID) -> None: ...


class Expander:
    def __init__(self, messaging: Messaging, due: DueSends, staged: StagedChunks) -> None:
        self.messaging = messaging
        self.due = due
        self.staged = staged

    def expand_round(self, now: datetime, limit: int = 100) -> int:
        """Record one chunk of every due send; returns how many messages were recorded."""
        recorded = 0
        for send_id in self.due.due_sends(now, limit):
            recorded += self._expand(send_id, now)
        return recorded

    def _expand(self, send_id: UUID, now: datetime) -> int:
        try:
            send = self.messaging.send(send_id)
        except SendNotFoundError:
            return 0
        if not send.is_due(now):
            return 0
        start = send.recorded
        chunk = self.staged.sealed_chunk(send_id, start, min(CHUNK, send.total - start))
        if not chunk:
            if self.messaging.send(send_id).is_due(now):  # not cancelled meanwhile
                log.error("staged recipients missing", extra={"send_id": str(send_id)})
            return 0
        try:
            self.messaging.record_chunk(send, chunk)
        except IntegrityError:
            # Another expander recorded this chunk first, or the send changed since it was
            # loaded (cancelled while this chunk was read): the next round sees which.
            return 0
        if start + len(chunk) >= send.total:
            self.staged.discard(send_id)
        return len(chunk)
