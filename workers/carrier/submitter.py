"""The submitter: a bind's followers of ``<P>_ROUTE``, one consumer per lane.

Per fetch (a few ``OutboundBatch`` NATS messages from the dispatcher) it decodes the batches,
hands them to ``services.submission.Submission`` (claims, triage, submits through the bind's
client, the recorded ``CarrierReport``s) and answers each NATS message as the service says:
acknowledged once its results are recorded, or given back to be redelivered later (a requeued
or uncertain message, or one another sender is at). While a fetch is in work its NATS messages
are marked in progress every ``IN_PROGRESS_EVERY`` seconds, so a slow carrier or a database
that is away for a while never makes JetStream hand them to another follower meanwhile; and
the process renews its claims' lease. A fetch that fails is left unacknowledged and
redelivered after the consumer's ``ack_wait``; its messages already recorded then find final
claims.

Stopping (``drain``): no further fetch, no further part written; the batches in work get the
answers to what is on the wire, record them and answer their NATS messages (what was not
written is requeued, its claim given back); then the lease ends.

The lanes run side by side (or in processes of their own, see ``KONTOR_LANES``): a single
message never waits for a campaign's batch to be recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.carriers import Bind
from adapters.contacts.optouts import PostgresOptOuts
from adapters.jetstream.payloads import batch_decoder
from adapters.postgres.claims import RENEW_EVERY, PostgresClaims, ResultRecorder
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
TX_IN_FLIGHT = 8
"""Single-message batches in work at once per bind. Each is claimed, written and recorded in
a few round trips: one at a time capped the transactional lane at 60-120 messages per second
however many followers fetched (nats-py answers one subscription's fetches in turn). So the
transactional follower fetches one batch at a time but works on up to this many side by side
(the claims keep each message to one sender)."""
TX_MORE = 31
"""NATS messages of a backlog taken with the one fetched (their consumer said they were
waiting): one submit, with one round of lookups (claims, opt-outs, cancellations, keys) for all
of them. Taken one at a time, a busy transactional lane paid those lookups per message."""
TX_MORE_WAIT = 0.02
"""Seconds the backlog's fetch waits at most: the messages are there, unless another process
of the bind took them first (then it finds none and gives up after this)."""
BULK_FETCH = 2
"""Batches a campaign follower takes at once (each up to a recorded chunk, 500 messages)."""
ACK_WAIT = 30.0
"""Seconds JetStream waits for an answer before it hands a NATS message out again."""
IN_PROGRESS_EVERY = 10.0
"""Seconds between "still working on it" signals for the NATS messages of a batch in work."""


class Submitter:
    def __init__(
        self, runtime: WorkerRuntime, bind: Bind, client: SmppClient, clock: Clock
    ) -> None:
        self.runtime = runtime
        self.bind = bind
        self.client = client
        backend = runtime.backend
        pool = backend.pool
        if pool is None:
            raise RuntimeError("the carrier sender needs PostgreSQL")
        self.claims = PostgresClaims(pool, bind.name, bind.carrier)
        self.service = Submission(
            route=bind.name,
            claims=self.claims,
            opt_outs=PostgresOptOuts(pool),
            cancellations=SendCancellations(backend.messaging),
            keys=backend.keyring,
            recorder=ResultRecorder(backend.messaging, bind.name, bind.carrier),
            carrier=client,
            clock=clock,
            validity=runtime.settings.message_validity_hours * 3600.0,
            resubmit_after=bind.resubmit_delay,
        )
        self.draining = asyncio.Event()
        self._followers: list[asyncio.Task[None]] = []

    async def start(self) -> list[asyncio.Task[None]]:
        """Take the lease, subscribe to the lanes this process serves and start their
        followers (and the lease's renewal)."""
        await asyncio.to_thread(self.claims.renew_lease)
        renamed = await asyncio.to_thread(
            self.claims.adopt_carrier, self.bind.carrier, self.bind.login
        )
        if renamed:
            log.info("carrier ids renamed", extra={"carrier": self.bind.carrier, "rows": renamed})
        lanes = self.runtime.settings.lane_set
        if "tx" in lanes:
            tx = await self._subscribe("tx")
            self._followers.append(
                asyncio.create_task(self._follow(tx, TX_FETCH, TX_IN_FLIGHT, TX_MORE))
            )
        if "bulk" in lanes:
            bulk = await self._subscribe("bulk")
            self._followers += [
                asyncio.create_task(self._follow(bulk, BULK_FETCH)) for _ in range(BULK_FOLLOWERS)
            ]
        return [*self._followers, asyncio.create_task(self._renew_lease())]

    async def drain(self, timeout: float) -> None:
        """Stop taking work and finish what is in work (see the module docstring); what is
        still running after ``timeout`` seconds is cancelled (its claims are interrupted and
        recorded uncertain by whoever sends those messages next)."""
        self.draining.set()
        self.client.stop_sending()
        if self._followers:
            _, late = await asyncio.wait(self._followers, timeout=timeout)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.claims.end_lease)

    async def _renew_lease(self) -> None:
        while not self.draining.is_set():
            await asyncio.sleep(RENEW_EVERY)
            try:
                await asyncio.to_thread(self.claims.renew_lease)
            except Exception as exc:  # noqa: BLE001 - renewed again at the next turn
                log.warning("lease not renewed", extra={"bind": self.bind.name, "error": repr(exc)})

    async def _subscribe(self, lane: str) -> Any:
        topology = self.runtime.topology
        return await self.runtime.nats.jetstream.pull_subscribe(
            topology.route_subject(self.bind.name, lane),
            durable=topology.consumer("carrier", self.bind.name, lane),
            stream=topology.route_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=ACK_WAIT, max_ack_pending=10_000
            ),
        )

    async def _follow(
        self, subscription: Any, batch: int, in_flight: int = 1, more: int = 0
    ) -> None:
        """Fetch ``batch`` NATS messages at a time and work on up to ``in_flight`` fetches
        at once (with up to ``more`` of a backlog: see ``TX_MORE``); when stopping, finish
        those in work (cancelled: cancel them too)."""
        slots = asyncio.Semaphore(in_flight)
        working: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            working.discard(task)
            slots.release()

        try:
            while not self.draining.is_set() and not self.runtime.stop.is_set():
                await slots.acquire()
                try:
                    msgs = await subscription.fetch(batch, timeout=0.5)
                except (TimeoutError, NatsTimeout):
                    slots.release()
                    continue
                if more:
                    msgs += await _backlog(subscription, msgs[-1], more)
                task = asyncio.create_task(self._process_or_pause(msgs))
                working.add(task)
                task.add_done_callback(done)
        except asyncio.CancelledError:
            for task in working:
                task.cancel()
            raise
        finally:
            if working:
                await asyncio.gather(*working, return_exceptions=True)

    async def _process_or_pause(self, msgs: list[Any]) -> None:
        try:
            await self.process(msgs)
        except Exception:
            log.exception("carrier batch failed; retrying", extra={"bind": self.bind.name})
            await asyncio.sleep(1.0)

    async def process(self, msgs: list[Any]) -> None:
        batches = [batch_decoder.decode(msg.data).messages for msg in msgs]
        keeper = asyncio.create_task(_keep_in_progress(msgs))
        try:
            answers = await self.service.submit(batches)
        finally:
            keeper.cancel()
        for msg, answer in zip(msgs, answers, strict=True):
            match answer:
                case Ack():
                    await msg.ack()
                case Nak(delay=delay):
                    await msg.nak(delay=delay)


async def _backlog(subscription: Any, last: Any, most: int) -> list[Any]:
    """Up to ``most`` NATS messages waiting behind ``last`` (its metadata counts them)."""
    waiting = min(most, last.metadata.num_pending)
    if waiting <= 0:
        return []
    try:
        return list(await subscription.fetch(waiting, timeout=TX_MORE_WAIT))
    except (TimeoutError, NatsTimeout):
        return []


async def _keep_in_progress(msgs: list[Any]) -> None:
    """Tell JetStream every ``IN_PROGRESS_EVERY`` seconds that the batch is still in work."""
    while True:
        await asyncio.sleep(IN_PROGRESS_EVERY)
        for msg in msgs:
            try:
                await msg.in_progress()
            except Exception as exc:  # noqa: BLE001 - NATS away: the next turn tries again
                log.warning("in-progress signal failed", extra={"error": repr(exc)})
