"""The carrier sender's decisions for one fetch of ``OutboundBatch`` NATS messages of a bind.

``Submission.submit`` takes the batches' messages and answers each NATS message. On the way:

1. Independent lookups, side by side (the batch waits for one round trip, not four): every
   message is claimed (``Claims``: a redelivery finds its earlier claim), the numbers are
   checked against the accounts' opt-out lists (``OptOuts``), the sends' cancellation is asked
   (``Cancellations``, at most once a second per send) and the data keys are loaded
   (``Keys.prefetch``).
2. ``triage``: what each message needs. Nothing, when its claim is final (submitted before: a
   redelivery never submits twice). Cancelled, when its send was cancelled or its number opted
   out after the send was accepted. Expired, when its ``deadline`` passed (a message days late
   is worse than none, and its reservation has closed). Otherwise a submit, attempt n; a claim
   still ``submitting`` (the sender died between submit and record: the carrier may have it)
   first records the earlier attempt as uncertain.
3. Each message to submit is opened (a redacted text or a shredded key cancels it: the person
   was erased) and its parts go to the ``Carrier`` (``services.submit_parts``): accepted,
   rejected, uncertain, or ``Requeue`` when its first part could not go out yet.
4. Every result is recorded at once (``ResultRecorder``: the ``CarrierReport`` with the claims'
   new states and the carrier-id index, one transaction); requeued messages' claims are given
   back (their redelivery is a first attempt again).
5. ``acknowledgements``: a NATS message holding a requeued message is offered again after
   ``REQUEUE_DELAY``, one holding an uncertain message after ``RETRY_DELAY`` (it is submitted
   again, and that attempt is recorded as such), any other is acknowledged.

Invariants: nothing is acknowledged before its results are recorded; a message with a final
claim is never submitted again; a result is recorded together with its claim's new state.
The ports are synchronous (PostgreSQL through a pool): the service runs them in threads.
"""

from __future__ import annotations

import asyncio
import base64
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.jetstream.payloads import OutboundMessage, Sealed
from adapters.smpp.smpptime import relative_smpp_time
from domain.messaging.claims import Claim
from domain.messaging.records import SubmitOutcome, SubmitResult
from services.acks import ACK, Ack, Nak
from services.ports import Clock, Keys, OptOuts
from services.submit_parts import Carrier, Requeue, Sleep, answers, message_result, result_of

REQUEUE_DELAY = 1.0
"""Seconds before a batch with a requeued message (throttled, queue full) is offered again."""
RETRY_DELAY = 5.0
"""Seconds before a batch with an uncertain message is offered again (to submit it again)."""
CANCELLATION_TTL = 1.0
"""Seconds a send's cancellation state is trusted: a cancellation stops its messages within
about a second, while a campaign's batches cost one load of their send a second, not one each."""


class Claims(Protocol):
    """The submit claims (``adapters.postgres.claims.PostgresClaims``)."""

    def claim(self, route: str, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        """Claim the messages for a submit: the claims that existed before (a redelivery), as
        they were, and every other message now ``submitting`` attempt 1; a claim that was not
        final is ``submitting`` its next attempt now."""
        ...

    def unclaim(self, message_ids: Iterable[UUID]) -> None:
        """Give back the first-attempt claims of messages never written to the carrier."""
        ...


class Cancellations(Protocol):
    """Whether a send was cancelled (``adapters.send_states.SendCancellations``)."""

    def cancelled(self, send_id: UUID) -> bool: ...


class ResultRecorder(Protocol):
    """Records submit results with their claims' states and carrier-id index rows, in one
    transaction (``adapters.postgres.claims.ResultRecorder``)."""

    def record(self, results: Sequence[SubmitResult]) -> None: ...


Submit = tuple[OutboundMessage, int]
"""A message to submit and its attempt number (a tuple: one is made per message sent)."""


@dataclass(frozen=True, slots=True)
class Triage:
    results: list[SubmitResult]
    """To record without a submit: earlier attempts' uncertainty, cancellations, expiries."""
    to_submit: list[Submit]


def deadline(message: OutboundMessage, validity: float) -> float:
    """When the message's send expires (epoch seconds; its reservation then closes); for a
    message recorded before sends kept that, its recording time plus ``validity`` seconds."""
    if message.expires_at is not None:
        return message.expires_at
    return message.recorded_at + validity


def triage(
    messages: Iterable[OutboundMessage],
    earlier: Mapping[UUID, Claim],
    opted_out: Collection[UUID],
    cancelled_sends: Collection[UUID],
    *,
    now: datetime,
    validity: float,
    route: str,
) -> Triage:
    """What each message needs (see step 2 above). ``opted_out`` names messages,
    ``cancelled_sends`` sends; ``earlier`` is what ``Claims.claim`` answered."""
    results: list[SubmitResult] = []
    to_submit: list[Submit] = []
    epoch = now.timestamp()
    for message in messages:
        claim = earlier.get(message.message_id)
        if claim is not None and claim.final:
            continue
        attempt = 1 if claim is None else claim.attempt + 1
        if claim is not None and claim.interrupted:
            results.append(
                result_of(
                    message, SubmitOutcome.UNCERTAIN, route=route, attempt=attempt - 1, at=now
                )
            )
        if message.message_id in opted_out or message.send_id in cancelled_sends:
            outcome = SubmitOutcome.CANCELLED
        elif epoch > deadline(message, validity):
            outcome = SubmitOutcome.EXPIRED
        else:
            to_submit.append((message, attempt))
            continue
        results.append(result_of(message, outcome, route=route, attempt=attempt, at=now))
    return Triage(results, to_submit)


def opted_out(opt_outs: OptOuts, messages: Iterable[OutboundMessage]) -> set[UUID]:
    """The messages whose number went on their account's opt-out list (one lookup per
    account of the batch)."""
    by_account: dict[UUID, list[OutboundMessage]] = defaultdict(list)
    for message in messages:
        by_account[message.account_id].append(message)
    found: set[UUID] = set()
    for account_id, group in by_account.items():
        hashes = opt_outs.suppressed(account_id, {m.number_hash for m in group})
        found.update(m.message_id for m in group if m.number_hash in hashes)
    return found


def acknowledgements(
    batches: Sequence[Sequence[OutboundMessage]],
    requeued: Collection[UUID],
    retried: Collection[UUID],
) -> list[Ack | Nak]:
    """The answer to each NATS message (given as the messages it held), once the results are
    recorded: its messages that were requeued or came out uncertain are why it comes again."""
    if not requeued and not retried:
        return [ACK] * len(batches)
    answers: list[Ack | Nak] = []
    for batch in batches:
        ids = {m.message_id for m in batch}
        if not ids.isdisjoint(requeued):
            answers.append(Nak(REQUEUE_DELAY))
        elif not ids.isdisjoint(retried):
            answers.append(Nak(RETRY_DELAY))
        else:
            answers.append(ACK)
    return answers


def opened(keys: Keys, sealed: Sealed, key_ids: Mapping[str, UUID]) -> str | None:
    """The plaintext of a sealed number or text; ``None`` once redacted or shredded."""
    if sealed.c is None:
        return None
    plain = keys.open(key_ids[sealed.k], base64.b64decode(sealed.c))
    return None if plain is None else plain.decode()


class Submission:
    """The carrier sender of one bind (see the module docstring)."""

    def __init__(
        self,
        *,
        route: str,
        claims: Claims,
        opt_outs: OptOuts,
        cancellations: Cancellations,
        keys: Keys,
        recorder: ResultRecorder,
        carrier: Carrier,
        clock: Clock,
        validity: float,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.route = route
        self.claims = claims
        self.opt_outs = opt_outs
        self.cancellations = cancellations
        self.keys = keys
        self.recorder = recorder
        self.carrier = carrier
        self.clock = clock
        self.validity = validity
        """Seconds a message recorded without an ``expires_at`` stays sendable."""
        self.sleep = sleep
        self._cancelled: dict[UUID, tuple[float, bool]] = {}

    async def submit(self, batches: Sequence[Sequence[OutboundMessage]]) -> list[Ack | Nak]:
        """Submit the messages of ``batches`` (one per NATS message) and record what came of
        them; the answer to each NATS message, in order."""
        by_id = {m.message_id: m for batch in batches for m in batch}
        messages = by_id.values()
        # A message's number and text are sealed under the same recipient key: each key id
        # is parsed once per batch.
        key_ids = {k: UUID(k) for k in {k for m in messages for k in (m.number.k, m.text.k)}}
        earlier, opted, cancelled, _ = await asyncio.gather(
            asyncio.to_thread(self.claims.claim, self.route, list(by_id)),
            asyncio.to_thread(opted_out, self.opt_outs, messages),
            self._cancelled_sends({m.send_id for m in messages}),
            asyncio.to_thread(self.keys.prefetch, list(key_ids.values())),
        )
        now = self.clock()
        plan = triage(
            messages, earlier, opted, cancelled, now=now, validity=self.validity, route=self.route
        )
        outcomes = await asyncio.gather(
            *(self._submit(m, attempt, key_ids, now) for m, attempt in plan.to_submit)
        )
        results = plan.results
        requeued: set[UUID] = set()
        retried: set[UUID] = set()
        for (message, _), outcome in zip(plan.to_submit, outcomes, strict=True):
            if isinstance(outcome, Requeue):
                requeued.add(message.message_id)
                continue
            results.append(outcome)
            if outcome.outcome is SubmitOutcome.UNCERTAIN:
                retried.add(message.message_id)
        if results:
            await asyncio.to_thread(self.recorder.record, results)
        if requeued:
            await asyncio.to_thread(self.claims.unclaim, requeued)
        return acknowledgements(batches, requeued, retried)

    async def _submit(
        self, message: OutboundMessage, attempt: int, key_ids: Mapping[str, UUID], now: datetime
    ) -> SubmitResult | Requeue:
        number = opened(self.keys, message.number, key_ids)
        text = None if number is None else opened(self.keys, message.text, key_ids)
        if number is None or text is None:  # the person was erased after it was recorded
            return result_of(
                message, SubmitOutcome.CANCELLED, route=self.route, attempt=attempt, at=now
            )
        left = int(deadline(message, self.validity) - now.timestamp())
        parts = await answers(
            self.carrier, message, number, text, relative_smpp_time(left), self.sleep
        )
        return message_result(message, parts, route=self.route, attempt=attempt, at=self.clock())

    async def _cancelled_sends(self, send_ids: set[UUID]) -> set[UUID]:
        """Which of the sends were cancelled; a send not asked about within the last
        ``CANCELLATION_TTL`` seconds is asked again, all of them side by side."""
        now = self.clock().timestamp()
        known = self._cancelled
        stale = [s for s in send_ids if (c := known.get(s)) is None or c[0] < now]
        found = await asyncio.gather(
            *(asyncio.to_thread(self.cancellations.cancelled, send_id) for send_id in stale)
        )
        for send_id, cancelled in zip(stale, found, strict=True):
            known[send_id] = (now + CANCELLATION_TTL, cancelled)
        if len(known) > 10_000:  # forget sends no batch asked about for a while
            self._cancelled = {s: c for s, c in known.items() if c[0] >= now}
        return {s for s in send_ids if known[s][1]}
