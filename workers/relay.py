"""The outbox relay: follows the Messaging notification log and publishes every recorded
message to JetStream: a recorded chunk as one ``OutboundBatch`` (a few if it is large),
``Nats-Msg-Id`` = the chunk event's id and the batch's number, so a republished chunk is
dropped as a duplicate. One NATS message per chunk instead of per SMS: the relay, JetStream and
the dispatcher handle a few hundred messages for the cost of one.

Two followers with positions of their own: the transactional lane's chunks and the campaigns'
chunks, so a single message never waits behind a campaign's backlog (``kontor up`` runs them in
processes of their own, see ``KONTOR_LANES``). A position advances only
after JetStream acknowledged every publish of the batch; after a crash the batch is published
again and JetStream drops the duplicates (and consumers are idempotent beyond its window).

A single send's chunk usually reaches JetStream before the relay sees it: the API publishes it
right after answering (``adapters.jetstream.outbox``, same ids), so the relay's publish is the
duplicate. The relay remains what guarantees publication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from adapters.jetstream.outbox import publications
from adapters.jetstream.topology import Topology
from domain.messaging.batches import MessageChunk
from projections.runner import setup_tracking
from settings import Settings
from workers.runtime import TableWaker, WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)

COALESCE = {"tx": 0.025, "bulk": 0.05}
"""Seconds a follower lets inserts gather after a wake-up. The transactional lane's fast path
is the API's own publish (``adapters.jetstream.outbox``); the relay is its guarantee and the
publisher of scheduled single sends, so a few milliseconds more cost nothing there, while waking 200
times a second for every insert of a running campaign cost it 5 CPU-seconds per 100,000 messages."""
PERSIST_EVERY = 1.0
"""Seconds between writes of a position that only skipped other events (a position that
published something is written at once): a restart rescans at most this much of the log."""
LANES = {
    "tx": (get_topic(MessageChunk.TransactionalRecorded), 50),
    "bulk": (get_topic(MessageChunk.Recorded), 8),
}


class Relay:
    def __init__(self, runtime: WorkerRuntime) -> None:
        self.runtime = runtime
        self.app = runtime.backend.messaging
        self.topology: Topology = runtime.topology
        pool = runtime.backend.pool
        if pool is None:
            raise RuntimeError("the relay needs PostgreSQL")
        self.pool = pool
        setup_tracking(pool)
        with pool.connection() as conn:
            for lane in LANES:
                conn.execute(
                    "INSERT INTO projection_tracking VALUES (%s, %s, 0) ON CONFLICT DO NOTHING",
                    (f"relay:{lane}", self.app.name),
                )

    def _position(self, lane: str) -> int:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT notification_id FROM projection_tracking"
                " WHERE projection = %s AND application = %s",
                (f"relay:{lane}", self.app.name),
            ).fetchone()
        return int(row[0]) if row else 0

    def _advance(self, lane: str, position: int) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE projection_tracking SET notification_id = %s"
                " WHERE projection = %s AND application = %s AND notification_id < %s",
                (position, f"relay:{lane}", self.app.name, position),
            )

    def _select(self, start: int, lane: str) -> tuple[list[Notification], int]:
        topic, limit = LANES[lane]
        ceiling = self.app.recorder.max_notification_id() or 0
        found = self.app.recorder.select_notifications(
            start=start, limit=limit, stop=ceiling, topics=[topic], inclusive_of_start=False
        )
        # Nothing of this lane up to the ceiling: skip over the other events in one step.
        reached = found[-1].id if len(found) == limit else max(ceiling, start)
        return list(found), reached

    async def follow(self, lane: str) -> None:
        waker = TableWaker(self._database_url(), f"{self.app.name.lower()}_events")
        js = self.runtime.nats.jetstream
        position = await asyncio.to_thread(self._position, lane)
        loop_time = asyncio.get_running_loop().time
        stored, persisted_at = position, loop_time()
        while not self.runtime.stop.is_set():
            try:
                found, reached = await asyncio.to_thread(self._select, position, lane)
                if found:
                    await self._publish(js, found)
                position = max(position, reached)
                if position > stored and (found or loop_time() - persisted_at >= PERSIST_EVERY):
                    await asyncio.to_thread(self._advance, lane, position)
                    stored, persisted_at = position, loop_time()
                if not found:
                    await waker.wait(timeout=0.5)
                    # Coalesce: other workers insert all the time, and each insert wakes us.
                    await asyncio.sleep(COALESCE[lane])
            except Exception:
                log.exception("relay batch failed; retrying", extra={"lane": lane})
                await asyncio.sleep(1.0)
        if position > stored:
            with contextlib.suppress(Exception):  # a restart rescans from the stored one
                await asyncio.to_thread(self._advance, lane, position)
        await waker.close()

    async def _publish(self, js: Any, notifications: list[Notification]) -> None:
        futures = [
            await js.publish_async(p.subject, p.payload, headers=p.headers)
            for notification in notifications
            for p in publications(self.topology, notification)
        ]
        await asyncio.gather(*futures)

    def _database_url(self) -> str:
        url = self.runtime.settings.database_url
        if url is None:
            raise RuntimeError("the relay needs PostgreSQL")
        return url


async def main(settings: Settings) -> int:
    async with worker_runtime(settings, "relay") as runtime:
        relay = Relay(runtime)
        await asyncio.gather(*(relay.follow(lane) for lane in sorted(settings.lane_set)))
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
