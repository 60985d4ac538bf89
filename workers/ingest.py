"""DLR and MO ingest: turns the deliver_sm PDUs in ``<P>_INBOUND`` into events.

The carrier sender's receipt tap stores the PDUs of a bind that arrive together as one
``InboundBatch``. ``services.receipts.Receipts`` matches receipts through the carrier-id index,
records reports and replies, keeps receipts it gave up on and answers each NATS message; this
worker fetches, decodes the payloads, calls it in a thread (its ports are synchronous) and
answers JetStream: acknowledge, offer again later (nak with a delay), store early receipts
again one by one (then acknowledge), or terminate a message whose receipts were kept as
unmatched. Nothing is acknowledged before the service returned, so before its events are saved.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.jetstream.payloads import InboundBatch, InboundPdu, encoder, inbound_decoder
from adapters.postgres.claims import PostgresCarrierIds, PostgresInDoubt
from adapters.postgres.reply_parts import PostgresReplyParts
from services.acks import Ack, Nak
from services.receipts import Answer, GiveUp, Offered, ParkAlone, Receipts
from services.reply_parts import PART_TIMEOUT, Reassembly
from settings import Settings
from workers.runtime import WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)
OVERDUE_EVERY = 30.0
"""Seconds between two looks for concatenated replies whose missing parts are overdue."""


class Ingest:
    def __init__(self, runtime: WorkerRuntime, part_timeout: timedelta = PART_TIMEOUT) -> None:
        self.runtime = runtime
        self.backend = runtime.backend
        pool = runtime.backend.pool
        if pool is None:
            raise RuntimeError("the ingest needs PostgreSQL")
        self.parts = PostgresReplyParts(pool, self.backend.keyring)
        self.parts.setup()
        self.receipts = Receipts(
            index=PostgresCarrierIds(pool),
            recorder=self.backend.messaging,
            keys=self.backend.keyring,
            reassembly=Reassembly(self.parts, part_timeout),
            in_doubt=PostgresInDoubt(pool, self.backend.messaging),
        )
        self._overdue_at = 0.0

    async def run(self) -> None:
        js = self.runtime.nats.jetstream
        topology = self.runtime.topology
        subscription = await js.pull_subscribe(
            f"{topology.prefix}.inbound.>",
            durable=topology.consumer("ingest"),
            stream=topology.inbound_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=60, max_ack_pending=20_000
            ),
        )
        while not self.runtime.stop.is_set():
            await self._overdue()
            try:
                msgs = await subscription.fetch(500, timeout=0.2)
            except (TimeoutError, NatsTimeout):
                continue
            try:
                await self.process(msgs)
            except Exception:
                log.exception("ingest batch failed; it will be redelivered")
                await asyncio.sleep(1.0)

    async def process(self, msgs: list[Any]) -> None:
        answers = await asyncio.to_thread(self._decide, msgs)
        for msg, answer in zip(msgs, answers, strict=True):
            match answer:
                case Ack():
                    await msg.ack()
                case Nak(delay=delay):
                    await msg.nak(delay=delay)
                case ParkAlone(copies=copies):
                    await self._park_alone(msg, copies)
                    await msg.ack()
                case GiveUp():
                    await msg.term()

    async def _overdue(self) -> None:
        """Now and then: record the concatenated replies still missing parts after the
        timeout, and forget parts closed long ago."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._overdue_at:
            return
        self._overdue_at = loop.time() + OVERDUE_EVERY
        now = datetime.now(UTC)
        try:
            recorded = await asyncio.to_thread(self.receipts.overdue_replies, now)
            await asyncio.to_thread(self.parts.forget_closed, now)
        except Exception:
            log.exception("overdue reply parts not recorded; trying again later")
            return
        if recorded:
            log.info("recorded incomplete replies", extra={"replies": recorded})

    def _decide(self, msgs: list[Any]) -> list[Answer]:
        return self.receipts.process([offered(msg) for msg in msgs])

    async def _park_alone(self, msg: Any, copies: tuple[tuple[str, InboundPdu], ...]) -> None:
        """Store early receipts again, each as a batch of one, under the ids the service gave
        (the same each time, so JetStream drops a second copy)."""
        js = self.runtime.nats.jetstream
        stored = [
            await js.publish_async(
                msg.subject,
                encoder.encode(InboundBatch([inbound])),
                headers={"Nats-Msg-Id": copy_id},
            )
            for copy_id, inbound in copies
        ]
        await asyncio.gather(*stored)


def offered(msg: Any) -> Offered:
    """A fetched NATS message as the service takes it. JetStream's stream sequence names the
    stored message (a digest of its bytes for a message without metadata)."""
    metadata = msg.metadata
    return Offered(
        items=inbound_decoder.decode(msg.data).items,
        deliveries=metadata.num_delivered if metadata else 1,
        stored=str(metadata.sequence.stream) if metadata else hashlib.sha256(msg.data).hexdigest(),
    )


async def main(settings: Settings) -> int:
    async with worker_runtime(settings, "ingest") as runtime:
        timeout = timedelta(seconds=settings.reply_part_timeout_seconds)
        await Ingest(runtime, timeout).run()
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
