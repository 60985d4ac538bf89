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
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from adapters.jetstream import Topology
from adapters.payloads import OutboundMessage, batch_payloads, chunk_decoder
from domain.messaging.batches import MessageChunk
from kontor.settings import Settings
from projections.runner import setup_tracking
from workers.runtime import TableWaker, WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)

COALESCE = {"tx": 0.005, "bulk": 0.05}
LANES = {
    "tx": (get_topic(MessageChunk.TransactionalRecorded), 50),
    "bulk": (get_topic(MessageChunk.Recorded), 8),
}


def outbound(notification: Notification) -> list[OutboundMessage]:
    chunk = chunk_decoder.decode(notification.state)
    recorded_at = chunk.timestamp.timestamp()
    return [
        OutboundMessage(
            message_id=m.message_id,
            send_id=chunk.send_id,
            account_id=chunk.account_id,
            index=m.index,
            lane=chunk.lane,
            sender=chunk.sender,
            tariff=chunk.tariff,
            region=m.region,
            number_hash=m.number_hash,
            number=m.number,
            text=m.text,
            encoding=m.encoding,
            parts=m.parts,
            price=m.price,
            delivery_reports=m.delivery_reports,
            recorded_at=recorded_at,
        )
        for m in chunk.messages
    ]


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
        while not self.runtime.stop.is_set():
            try:
                found, reached = await asyncio.to_thread(self._select, position, lane)
                if found:
                    await self._publish(js, found)
                if reached > position:
                    await asyncio.to_thread(self._advance, lane, reached)
                    position = reached
                if not found:
                    await waker.wait(timeout=0.5)
                    # Coalesce: other workers insert all the time, and each insert wakes us.
                    await asyncio.sleep(COALESCE[lane])
            except Exception:
                log.exception("relay batch failed; retrying", extra={"lane": lane})
                await asyncio.sleep(1.0)
        await waker.close()

    async def _publish(self, js: Any, notifications: list[Notification]) -> None:
        futures = []
        for notification in notifications:
            messages = outbound(notification)
            if not messages:
                continue
            subject = self.topology.out_subject(messages[0].lane, messages[0].account_id)
            chunk = f"{notification.originator_id}:{notification.originator_version}"
            for n, (payload, _, _) in enumerate(batch_payloads(messages)):
                futures.append(
                    await js.publish_async(
                        subject, payload, headers={"Nats-Msg-Id": f"{chunk}:{n}"}
                    )
                )
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
