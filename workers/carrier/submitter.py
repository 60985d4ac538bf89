"""The submitter: a bind's followers of ``<P>_ROUTE``, one consumer per lane.

Per fetch (a few ``OutboundBatch`` NATS messages from the dispatcher) it decodes the batches,
hands them to ``services.submission.Submission`` (claims, triage, submits through the bind's
client, one recorded ``CarrierReport``) and answers each NATS message as the service says:
acknowledged once its results are recorded, or given back to be redelivered later (a requeued
or uncertain message). A fetch that fails is left unacknowledged and redelivered after the
consumer's ``ack_wait``; its messages already recorded then find final claims.

The lanes run side by side (or in processes of their own, see ``KONTOR_LANES``): a single
message never waits for a campaign's batch to be recorded.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.carriers import Bind
from adapters.contacts.optouts import PostgresOptOuts
from adapters.jetstream.payloads import batch_decoder
from adapters.postgres.claims import PostgresClaims, ResultRecorder
from adapters.send_states import SendCancellations
from adapters.smpp.client import SmppClient
from services.acks import Ack, Nak
from services.ports import Clock
from services.submission import Submission
from workers.runtime import WorkerRuntime

log = logging.getLogger(__name__)
BULK_FOLLOWERS = 4
"""Campaign batches in work at once per bind: one is being claimed or recorded in PostgreSQL
while another is on the wire, so the window stays full."""
TX_FETCH = 1
"""Batches a transactional follower takes at once: one. nats-py's ``fetch(n)`` with n > 1,
once a message arrived on its waiting pull request, waits for the other n - 1 until its timeout
(or the server's expiry); a lone single send sat there 60-230 ms. ``fetch(1)`` returns as soon
as the message is there, and a backlog is taken one batch per round trip (a fraction of a
millisecond each)."""
BULK_FETCH = 2
"""Batches a campaign follower takes at once (each up to a recorded chunk, 500 messages)."""


class Submitter:
    def __init__(
        self, runtime: WorkerRuntime, bind: Bind, client: SmppClient, clock: Clock
    ) -> None:
        self.runtime = runtime
        self.bind = bind
        backend = runtime.backend
        pool = backend.pool
        if pool is None:
            raise RuntimeError("the carrier sender needs PostgreSQL")
        self.service = Submission(
            route=bind.name,
            claims=PostgresClaims(pool),
            opt_outs=PostgresOptOuts(pool),
            cancellations=SendCancellations(backend.messaging),
            keys=backend.keyring,
            recorder=ResultRecorder(backend.messaging, bind.name, bind.carrier),
            carrier=client,
            clock=clock,
            validity=runtime.settings.message_validity_hours * 3600.0,
        )

    async def start(self) -> list[asyncio.Task[None]]:
        """Subscribe to the lanes this process serves and start their followers."""
        lanes = self.runtime.settings.lane_set
        tasks = []
        if "tx" in lanes:
            tx = await self._subscribe("tx")
            tasks.append(asyncio.create_task(self._follow(tx, TX_FETCH)))
        if "bulk" in lanes:
            bulk = await self._subscribe("bulk")
            tasks += [
                asyncio.create_task(self._follow(bulk, BULK_FETCH)) for _ in range(BULK_FOLLOWERS)
            ]
        return tasks

    async def _subscribe(self, lane: str) -> Any:
        topology = self.runtime.topology
        return await self.runtime.nats.jetstream.pull_subscribe(
            topology.route_subject(self.bind.name, lane),
            durable=topology.consumer("carrier", self.bind.name, lane),
            stream=topology.route_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=10_000
            ),
        )

    async def _follow(self, subscription: Any, batch: int) -> None:
        while not self.runtime.stop.is_set():
            try:
                msgs = await subscription.fetch(batch, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                continue
            try:
                await self.process(msgs)
            except Exception:
                log.exception("carrier batch failed; retrying", extra={"bind": self.bind.name})
                await asyncio.sleep(1.0)

    async def process(self, msgs: list[Any]) -> None:
        batches = [batch_decoder.decode(msg.data).messages for msg in msgs]
        answers = await self.service.submit(batches)
        for msg, answer in zip(msgs, answers, strict=True):
            match answer:
                case Ack():
                    await msg.ack()
                case Nak(delay=delay):
                    await msg.nak(delay=delay)
