"""The dispatcher: takes recorded messages from ``<P>_OUT`` and hands them to their route at the
route's rate, the transactional lane first and campaigns in turns between accounts.

Messages travel in batches (``OutboundBatch``: a recorded chunk from the relay); the dispatcher
splits each by route into batches of at most half a second of the route's rate, takes that
many tokens, and publishes them to the route (``Nats-Msg-Id`` = the batch's stream sequence,
route and number, so a republished one is dropped). Each account's campaign batches sit on a
subject of their own; the dispatcher keeps a pull consumer per account with batches waiting and
takes one from each in turn, so one customer's 500,000-message campaign cannot starve
another's. Transactional messages are taken before any campaign message on every round, and
``kontor up`` gives them a dispatcher process of their own (``KONTOR_LANES``), the campaigns'
one leaving them ``TX_RESERVE`` of each route's rate. A batch is acknowledged only after its
route's stream confirmed every batch made of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.carriers import Carriers, load_carriers
from adapters.jetstream.payloads import OutboundMessage, batch_decoder, batch_payloads
from domain.tariff import Tariff
from settings import LANES, Settings
from workers.runtime import WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)

BULK_TURN = 1
"""Batches (recorded chunks, up to 500 messages) taken from one account's campaign before the
next account's turn."""

TX_RESERVE = 0.1
"""Share of a route's rate kept free for single messages when campaigns are dispatched by a
process of their own (``KONTOR_LANES=bulk``): the transactional dispatcher never waits for
tokens, so the campaigns leave it this headroom instead of sharing one bucket with it."""


class TokenBucket:
    """SMS parts per second for one route; a burst of half a second at most."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate / 2)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def available(self) -> float:
        self._refill()
        return self.tokens

    async def take(self, parts: int) -> None:
        """Wait until ``parts`` may go (a batch larger than the burst waits for the burst)."""
        self._refill()
        while self.tokens < min(parts, self.capacity):
            await asyncio.sleep((min(parts, self.capacity) - self.tokens) / self.rate)
            self._refill()
        self.tokens -= parts

    def spend(self, parts: int) -> None:
        """Use tokens without waiting (the bucket may go negative: later batches wait)."""
        self._refill()
        self.tokens -= parts


class Dispatcher:
    def __init__(
        self,
        runtime: WorkerRuntime,
        carriers: Carriers,
        lanes: frozenset[str] = LANES,
    ) -> None:
        self.runtime = runtime
        self.carriers = carriers
        self.lanes = lanes
        self.topology = runtime.topology
        share = 1.0 - TX_RESERVE if lanes == {"bulk"} else 1.0
        self.buckets = {
            name: TokenBucket(bind.tps * share) for name, bind in carriers.binds.items()
        }
        self.bulk: dict[str, Any] = {}
        self.js = runtime.nats.jetstream

    async def _subscribe(self, subject: str, durable: str) -> Any:
        return await self.js.pull_subscribe(
            subject,
            durable=durable,
            stream=self.topology.out_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=60,
                max_ack_pending=20_000,
                inactive_threshold=3600,
            ),
        )

    async def _discover(self) -> None:
        info = await self.js.stream_info(
            self.topology.out_stream, subjects_filter=self.topology.out_lane_filter("bulk")
        )
        for subject, count in (info.state.subjects or {}).items():
            if count and subject not in self.bulk:
                account = subject.rsplit(".", 1)[-1]
                self.bulk[subject] = await self._subscribe(
                    subject, self.topology.consumer("dispatch", "bulk", account)
                )

    async def run(self) -> None:
        """Dispatch this process's lanes (``kontor up`` runs a process for each, see
        ``KONTOR_LANES``)."""
        work = []
        if "tx" in self.lanes:
            tx = await self._subscribe(
                self.topology.out_lane_filter("tx"), self.topology.consumer("dispatch", "tx")
            )
            work.append(self._transactional(tx))
        if "bulk" in self.lanes:
            work.append(self._campaigns())
        await asyncio.gather(*work)

    async def _transactional(self, tx: Any) -> None:
        """Single messages go on at once: they take the route's tokens but never wait for
        them (their volume is small), so no campaign can hold them back. One batch per fetch
        (see ``workers.carrier.submitter.TX_FETCH``: a larger fetch holds a lone message back)."""
        while not self.runtime.stop.is_set():
            try:
                await self._take(tx, 1, timeout=0.5, wait_for_tokens=False)
            except Exception:
                log.exception("transactional dispatch failed; retrying")
                await asyncio.sleep(0.5)

    async def _campaigns(self) -> None:
        """Campaign messages in turns between accounts, at the route's rate."""
        discovered = 0.0
        while not self.runtime.stop.is_set():
            try:
                if time.monotonic() - discovered > 0.5:
                    await self._discover()
                    discovered = time.monotonic()
                moved = 0
                for subject in list(self.bulk):
                    moved += await self._take(self.bulk[subject], BULK_TURN, timeout=0.01)
                if not moved:
                    await asyncio.sleep(0.05)
            except Exception:
                log.exception("campaign dispatch failed; retrying")
                await asyncio.sleep(0.5)

    async def _take(
        self, subscription: Any, batch: int, timeout: float, *, wait_for_tokens: bool = True
    ) -> int:
        try:
            msgs = await subscription.fetch(batch, timeout=timeout)
        except (TimeoutError, NatsTimeout):
            return 0
        futures = []
        moved = 0
        for msg in msgs:
            messages = batch_decoder.decode(msg.data).messages
            moved += len(messages)
            routed: dict[str, list[OutboundMessage]] = {}
            for message in messages:
                route = self.carriers.route_for(Tariff(message.tariff), message.region)
                routed.setdefault(route, []).append(message)
            batch_id = msg.metadata.sequence.stream
            for route, items in routed.items():
                bucket = self.buckets[route]
                subject = self.topology.route_subject(route, items[0].lane)
                payloads = batch_payloads(items, max_parts=int(bucket.capacity))
                for n, (payload, _, parts) in enumerate(payloads):
                    if wait_for_tokens:
                        await bucket.take(parts)
                    else:
                        bucket.spend(parts)
                    futures.append(
                        await self.js.publish_async(
                            subject, payload, headers={"Nats-Msg-Id": f"{batch_id}:{route}:{n}"}
                        )
                    )
        await asyncio.gather(*futures)
        for msg in msgs:
            await msg.ack()
        return moved


async def main(settings: Settings) -> int:
    async with worker_runtime(settings, "dispatcher") as runtime:
        if settings.carriers_file is None:
            raise RuntimeError("the dispatcher needs KONTOR_CARRIERS_FILE")
        dispatcher = Dispatcher(runtime, load_carriers(settings.carriers_file), settings.lane_set)
        with contextlib.suppress(asyncio.CancelledError):
            await dispatcher.run()
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
