"""The carrier sender: one SMPP bind per route of the carriers file, fed from ``<P>_ROUTE``.

Per fetch (a few ``OutboundBatch`` NATS messages from the dispatcher): claim the messages (see
``claims``), decrypt number and text, submit each message's encoded parts through the bind's
window, record the outcomes in one ``CarrierReport`` together with the claims and the
carrier-id index, then acknowledge. A batch holding a throttled, queue-full or unsent message
is given back and redelivered later (its messages already recorded are then acknowledged
without a second submit: their claims are final); an unanswered submit is recorded as
uncertain.
The transactional subject is always drained before the campaign subject.

The bind also receives deliver_sm (receipts and replies): each is sealed, stored in
``<P>_INBOUND`` and only then answered, so the SMSC redelivers anything we did not keep. Those
that arrive together are stored as one ``InboundBatch`` (see ``InboundStore``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.carriers import Bind, load_carriers
from adapters.contacts.optouts import suppressed_hashes
from adapters.crypto.inbound_keys import inbound_key_id
from adapters.jetstream.payloads import (
    InboundBatch,
    InboundPdu,
    OutboundMessage,
    Sealed,
    batch_decoder,
    encoder,
    query_decoder,
)
from adapters.smpp.client import SmppClient
from adapters.smpp.codec import encode
from adapters.smpp.config import ClientConfig
from adapters.smpp.message_id import IdFormat, canonical_message_id
from adapters.smpp.outcomes import (
    NotSent,
    PartAccepted,
    QueueFull,
    Rejected,
    SubmitRequest,
    Throttled,
    Unknown,
)
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.smpptime import relative_smpp_time
from domain.messaging.records import DeliveryReport, SubmitOutcome, SubmitResult
from domain.text.parts import encode_parts
from settings import Settings
from workers.claims import FINAL, Claim, Claims, side_effects
from workers.runtime import WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)
UDHI = 0x40
BULK_FOLLOWERS = 4
TX_FETCH = 1
"""Batches a transactional follower takes at once: one. nats-py's ``fetch(n)`` with n > 1,
once a message arrived on its waiting pull request, waits for the other n - 1 until its timeout
(or the server's expiry); a lone single send sat there 60-230 ms. ``fetch(1)`` returns as soon
as the message is there, and a backlog is taken one batch per round trip (a fraction of a
millisecond each)."""
BULK_FETCH = 2
"""Batches a campaign follower takes at once (each up to a recorded chunk, 500 messages)."""
REQUEUE = object()


class InboundStore:
    """Stores a bind's deliver_sm PDUs in JetStream, those that arrive together as one batch.

    ``store`` returns once the PDU is stored (then the client answers it). The first PDU of a
    batch schedules the publish for the event loop's next turn, after every PDU read from the
    socket meanwhile has joined it: no timer, no added wait, and one publish and one
    acknowledgement for up to ``MAX_ITEMS`` PDUs instead of one each."""

    MAX_ITEMS = 500

    def __init__(self, js: Any, subject: str) -> None:
        self.js = js
        self.subject = subject
        self.pending: list[tuple[InboundPdu, bytes, asyncio.Future[None]]] = []
        self.scheduled = False
        self.publishing: set[asyncio.Task[None]] = set()

    async def store(self, item: InboundPdu, raw: bytes) -> None:
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[None] = loop.create_future()
        self.pending.append((item, raw, stored))
        if len(self.pending) >= self.MAX_ITEMS:
            self._flush()
        elif not self.scheduled:
            self.scheduled = True
            loop.call_soon(self._flush)
        await stored

    def _flush(self) -> None:
        self.scheduled = False
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.create_task(self._publish(batch))
            self.publishing.add(task)
            task.add_done_callback(self.publishing.discard)

    async def _publish(self, batch: list[tuple[InboundPdu, bytes, asyncio.Future[None]]]) -> None:
        try:
            # The same PDUs give the same id: a batch published twice is stored once.
            digest = hashlib.sha256(b"".join(raw for _, raw, _ in batch)).hexdigest()
            ack = await self.js.publish_async(
                self.subject,
                encoder.encode(InboundBatch([item for item, _, _ in batch])),
                headers={"Nats-Msg-Id": digest},
            )
            await ack
        except Exception as exc:  # noqa: BLE001 - each waiting PDU gets the failure
            for _, _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
        else:
            for _, _, stored in batch:
                if not stored.done():
                    stored.set_result(None)


class BindWorker:
    def __init__(self, runtime: WorkerRuntime, bind: Bind) -> None:
        self.runtime = runtime
        self.bind = bind
        self.backend = runtime.backend
        self.keyring = runtime.backend.keyring
        pool = runtime.backend.pool
        if pool is None:
            raise RuntimeError("the carrier sender needs PostgreSQL")
        self.pool = pool
        self.claims = Claims(pool)
        self.topology = runtime.topology
        self.js = runtime.nats.jetstream
        self.client = SmppClient(
            ClientConfig(
                host=bind.host,
                port=bind.port,
                system_id=bind.system_id,
                password=bind.password,
                window=bind.window,
                name=bind.name,
            ),
            on_deliver=self.on_deliver,
        )
        self._cancelled: dict[UUID, tuple[float, bool]] = {}
        self.validity = runtime.settings.message_validity_hours * 3600.0
        self.inbound = InboundStore(self.js, self.topology.inbound_subject(bind.name))

    # -- receiving ---------------------------------------------------------------------------

    async def on_deliver(self, pdu: DeliverSm) -> None:
        """Seal and store a deliver_sm in JetStream; returning lets the client answer it."""
        raw = encode(pdu, 1)
        # The route's key was loaded at start (see run), so sealing needs no database here.
        sealed = self.keyring.seal(inbound_key_id(self.bind.name), raw)
        message = InboundPdu(
            route=self.bind.name, carrier=self.bind.carrier, received_at=time.time(), pdu=sealed
        )
        await self.inbound.store(message, raw)

    # -- sending -----------------------------------------------------------------------------

    async def _subscribe(self, lane: str) -> Any:
        return await self.js.pull_subscribe(
            self.topology.route_subject(self.bind.name, lane),
            durable=self.topology.consumer("carrier", self.bind.name, lane),
            stream=self.topology.route_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=30, max_ack_pending=10_000
            ),
        )

    async def answer_queries(self) -> None:
        """query_sm for each question on the route's query subject; the answer is recorded as
        a delivery report (source ``query_sm``)."""
        subscription = await self.js.pull_subscribe(
            self.topology.query_subject(self.bind.name),
            durable=self.topology.consumer("query", self.bind.name),
            stream=self.topology.query_stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=120),
        )
        while not self.runtime.stop.is_set():
            try:
                msgs = await subscription.fetch(100, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                continue
            questions = [query_decoder.decode(m.data) for m in msgs]
            answers = await asyncio.gather(
                *(self.client.query(q.carrier_id, q.sender) for q in questions),
                return_exceptions=True,
            )
            reports = [
                DeliveryReport(
                    message_id=q.message_id,
                    send_id=q.send_id,
                    account_id=q.account_id,
                    part=q.part,
                    carrier_id=q.carrier_id,
                    state=a.state.value,
                    status_text=f"query_sm message_state={a.message_state}",
                    error_code=str(a.error_code),
                    final=a.state.final,
                    done_at=a.final_date,
                    received_at=datetime.now(UTC),
                    source="query_sm",
                )
                for q, a in zip(questions, answers, strict=True)
                if not isinstance(a, BaseException)
            ]
            if reports:
                await asyncio.to_thread(
                    self.backend.messaging.record_deliveries, self.bind.name, reports
                )
            for msg in msgs:
                await msg.ack()

    async def run(self) -> None:
        await asyncio.to_thread(self.keyring.create_key, inbound_key_id(self.bind.name))
        await self.client.start()
        lanes = self.runtime.settings.lane_set
        tasks = [asyncio.create_task(self.answer_queries())]
        # The lanes run side by side (or in processes of their own, see KONTOR_LANES):
        # a single message never waits for a campaign's batch to be recorded.
        if "tx" in lanes:
            tx = await self._subscribe("tx")
            tasks.append(asyncio.create_task(self._follow(tx, TX_FETCH)))
        if "bulk" in lanes:
            bulk = await self._subscribe("bulk")
            # Several campaign batches in flight: one is being claimed or recorded in
            # PostgreSQL while another is on the wire, so the window stays full.
            tasks += [
                asyncio.create_task(self._follow(bulk, BULK_FETCH)) for _ in range(BULK_FOLLOWERS)
            ]
        try:
            await self.runtime.stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.close()

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
        batches = [(raw, batch_decoder.decode(raw.data).messages) for raw in msgs]
        by_id = {m.message_id: m for _, messages in batches for m in messages}
        messages = list(by_id.values())
        # A message's number and text are sealed under the same recipient key: each key id
        # is parsed once per batch.
        keys = {k: UUID(k) for k in {k for m in messages for k in (m.number.k, m.text.k)}}
        # The claim, the opt-out check, the sends' state and the data keys are independent
        # lookups: each takes a connection of its own, so the batch waits for one round trip.
        earlier, opted_out, _, _ = await asyncio.gather(
            asyncio.to_thread(self.claims.claim, self.bind.name, list(by_id)),
            asyncio.to_thread(self._opted_out, messages),
            self._refresh_cancelled({m.send_id for m in messages}),
            asyncio.to_thread(self.keyring.prefetch, list(keys.values())),
        )
        results, to_send = await self._triage(messages, earlier, opted_out)
        outcomes = await asyncio.gather(*(self._submit(m, a, keys) for m, a in to_send))
        requeue: set[UUID] = set()
        retry: set[UUID] = set()
        for (message, _), outcome in zip(to_send, outcomes, strict=True):
            if outcome is REQUEUE:
                requeue.add(message.message_id)
                continue
            results.append(outcome)
            if outcome.outcome is SubmitOutcome.UNCERTAIN:
                retry.add(message.message_id)  # recorded as uncertain; submitted again later
        if results:
            await asyncio.to_thread(self._record, results)
        if requeue:
            await asyncio.to_thread(self.claims.unclaim, requeue)
        for raw, batch in batches:
            ids = {m.message_id for m in batch}
            if ids & requeue:
                await raw.nak(delay=1.0)
            elif ids & retry:
                await raw.nak(delay=5.0)
            else:
                await raw.ack()

    def _opted_out(self, messages: list[OutboundMessage]) -> set[UUID]:
        """Messages whose number went on the account's opt-out list after the send was
        accepted (a scheduled campaign, a STOP reply meanwhile): they are never sent."""
        by_account: dict[UUID, list[OutboundMessage]] = defaultdict(list)
        for message in messages:
            by_account[message.account_id].append(message)
        found: set[UUID] = set()
        for account_id, group in by_account.items():
            hashes = suppressed_hashes(self.pool, account_id, {m.number_hash for m in group})
            found.update(m.message_id for m in group if m.number_hash in hashes)
        return found

    async def _triage(
        self, messages: list[OutboundMessage], earlier: dict[UUID, Claim], opted_out: set[UUID]
    ) -> tuple[list[SubmitResult], list[tuple[OutboundMessage, int]]]:
        """What each message of a batch needs: nothing (submitted before), a cancellation
        (send cancelled, number opted out), an expiry (its send expired before its turn: a
        message days late is worse than none, and its reservation has closed), or a submit
        with its attempt number (after recording an earlier attempt's uncertainty)."""
        results: list[SubmitResult] = []
        to_send: list[tuple[OutboundMessage, int]] = []
        now = time.time()
        for message in messages:
            claim = earlier.get(message.message_id)
            if claim is not None and claim.state in FINAL:
                continue  # submitted before: a redelivery needs no second submit
            attempt = 1 if claim is None else claim.attempt + 1
            if claim is not None and claim.state == "submitting":
                # The previous attempt died between submit and record: the carrier may have it.
                results.append(self._result(message, SubmitOutcome.UNCERTAIN, (), 0, attempt - 1))
            if message.message_id in opted_out or await self._is_cancelled(message.send_id):
                results.append(self._result(message, SubmitOutcome.CANCELLED, (), 0, attempt))
                continue
            if now > self._deadline(message):
                results.append(self._result(message, SubmitOutcome.EXPIRED, (), 0, attempt))
                continue
            to_send.append((message, attempt))
        return results, to_send

    def _deadline(self, message: OutboundMessage) -> float:
        """When the message's send expires (its reservation then closes); for a message
        recorded before sends kept that, its recording time plus the validity period."""
        if message.expires_at is not None:
            return message.expires_at
        return message.recorded_at + self.validity

    def _record(self, results: list[SubmitResult]) -> None:
        key = lambda carrier_id: canonical_message_id(carrier_id, IdFormat.OPAQUE)  # noqa: E731
        self.backend.messaging.record_results(
            self.bind.name, results, side_effects=side_effects(results, self.bind.carrier, key)
        )

    def _result(
        self,
        message: OutboundMessage,
        outcome: SubmitOutcome,
        carrier_ids: tuple[str, ...],
        status: int,
        attempt: int,
    ) -> SubmitResult:
        return SubmitResult(
            message_id=message.message_id,
            send_id=message.send_id,
            account_id=message.account_id,
            index=message.index,
            parts=message.parts,
            price=message.price,
            outcome=outcome,
            carrier_ids=carrier_ids,
            command_status=status,
            attempt=attempt,
            route=self.bind.name,
            at=datetime.now(UTC),
        )

    async def _submit(self, message: OutboundMessage, attempt: int, keys: dict[str, UUID]) -> Any:
        try:
            number = self._open(message.number, keys)
            text = self._open(message.text, keys)
        except ValueError:
            # The person was erased after the message was recorded: it is never sent.
            return self._result(message, SubmitOutcome.CANCELLED, (), 0, attempt)
        parts = encode_parts(text, message.message_id.int & 0xFF)
        # What is left of the message's validity goes with it: the carrier drops it (and
        # reports it expired) rather than deliver it later than that.
        validity_period = relative_smpp_time(int(self._deadline(message) - time.time()))
        carrier_ids: list[str] = []
        for part in parts:
            request = SubmitRequest(
                source=message.sender,
                destination=number,
                payload=part.payload,
                data_coding=part.data_coding,
                esm_class=UDHI if part.esm_class_udhi else 0,
                registered_delivery=1 if message.delivery_reports else 0,
                validity_period=validity_period,
            )
            outcome = await self._submit_part(request, first=not carrier_ids)
            if outcome is REQUEUE:
                return REQUEUE
            if isinstance(outcome, PartAccepted):
                carrier_ids.append(outcome.message_id)
                continue
            if isinstance(outcome, Unknown):
                carrier_ids.append("")
                return self._result(
                    message, SubmitOutcome.UNCERTAIN, tuple(carrier_ids), 0, attempt
                )
            status = outcome.command_status if isinstance(outcome, Rejected) else 0
            kind = SubmitOutcome.ACCEPTED if carrier_ids else SubmitOutcome.REJECTED
            return self._result(message, kind, tuple(carrier_ids), status, attempt)
        return self._result(message, SubmitOutcome.ACCEPTED, tuple(carrier_ids), 0, attempt)

    async def _submit_part(self, request: SubmitRequest, *, first: bool) -> Any:
        """One part; a first part that could not go out yet is requeued, a later one is
        retried here (its message already has parts at the carrier)."""
        for delay in (0.2, 0.5, 1.0, 2.0, 4.0, 8.0):
            outcome = await self.client.submit(request)
            if isinstance(outcome, Rejected) and not outcome.permanent:
                outcome = Throttled(outcome.command_status)
            if not isinstance(outcome, (Throttled, QueueFull, NotSent)):
                return outcome
            if first:
                return REQUEUE
            await asyncio.sleep(delay)
        return Unknown("timeout")

    def _open(self, sealed: Sealed, keys: dict[str, UUID]) -> str:
        if sealed.c is None:
            raise ValueError("a redacted message cannot be sent")
        opened = self.keyring.open(keys[sealed.k], base64.b64decode(sealed.c))
        if opened is None:
            raise ValueError("the recipient's data key was shredded")
        return opened.decode()

    async def _refresh_cancelled(self, send_ids: set[UUID]) -> None:
        """Look up (at most once a second per send) whether the batch's sends were cancelled,
        all of them side by side."""
        now = time.monotonic()
        stale = [s for s in send_ids if (c := self._cancelled.get(s)) is None or c[0] < now]
        sends = await asyncio.gather(
            *(asyncio.to_thread(self.backend.messaging.send, send_id) for send_id in stale)
        )
        for send_id, send in zip(stale, sends, strict=True):
            self._cancelled[send_id] = (now + 1.0, send.state.value == "cancelled")
        if len(self._cancelled) > 10_000:  # forget sends no batch asked about for a while
            self._cancelled = {s: c for s, c in self._cancelled.items() if c[0] >= now}

    async def _is_cancelled(self, send_id: UUID) -> bool:
        if send_id not in self._cancelled:
            await self._refresh_cancelled({send_id})
        return self._cancelled[send_id][1]


async def main(settings: Settings) -> int:
    if settings.carriers_file is None:
        raise RuntimeError("the carrier sender needs KONTOR_CARRIERS_FILE")
    carriers = load_carriers(settings.carriers_file)
    async with worker_runtime(settings, "carrier", pool_size=8) as runtime:
        workers = [BindWorker(runtime, bind) for bind in carriers.binds.values()]
        await asyncio.gather(*(worker.run() for worker in workers))
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
