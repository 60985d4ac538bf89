"""The carrier sender's decisions for one fetch of ``OutboundBatch`` NATS messages of a bind.

``Submission.submit`` takes the batches' messages and answers each NATS message. On the way:

1. Independent lookups, side by side (the batch waits for one round trip, not four): the
   messages' earlier claims (``Claims.earlier``: a redelivery finds them), the accounts'
   opt-out lists (``OptOuts``), the sends' cancellation (``Cancellations``, at most once a
   second per send) and the data keys (``Keys.prefetch``).
2. ``triage``: what each message needs. Nothing, when its claim is final (submitted before: a
   redelivery never submits twice). Nothing now, when a live sender holds its claim (its
   answers are slow, or it waits for the database to record them): its NATS message comes back
   after ``HELD_DELAY``. Cancelled, when its send was cancelled or its number opted out after
   the send was accepted. Expired, when its ``deadline`` passed (a message days late is worse
   than none, and its reservation has closed). Otherwise a submit, attempt n. A claim still
   ``submitting`` whose sender died (the carrier may have it) is recorded uncertain and waits
   (``waiting``) for its receipt or the resubmit delay, whichever comes first.
3. Each message to submit is opened (a redacted text or a shredded key cancels it: the person
   was erased) and its parts go to the ``Carrier`` (``services.submit_parts``). Its claim is
   taken only when its first part has its window slot, right before the write
   (``ClaimWaves``: the parts reaching the wire while the previous statement runs share the
   next one): so what a crash leaves in doubt is what was on the wire, not the whole batch.
   A claim someone else took meanwhile leaves the message unsent.
4. Results are recorded as they come, in reports of up to ``FLUSH_AT`` results or every
   ``FLUSH_AFTER`` seconds (``ResultRecorder``: the ``CarrierReport`` with the claims' new
   states and the carrier-id index, one transaction), so that a crash loses few answers. A
   report the database cannot take now is kept and tried again (``RECORD_RETRY``) until it
   is recorded: an answer in hand is never thrown away, and its message never goes twice.
   Requeued messages' claims are given back (their redelivery is a first attempt again).
5. ``acknowledgements``: a NATS message holding a requeued message is offered again after
   ``REQUEUE_DELAY``, one holding a message whose answer was lost after the bind's
   ``resubmit_after`` (``RESUBMIT_AFTER``: it is submitted again then, and that attempt is
   recorded as such, unless its receipt came meanwhile and settled it), one holding a message
   another sender is at after ``HELD_DELAY``; any other is acknowledged. A bind that never
   resubmits (``resubmit_after`` None) leaves such a message uncertain.

Invariants: nothing is acknowledged before its results are recorded; a message with a final
claim, or one a live sender holds, is never submitted again; a result is recorded together with
its claim's new state; a message is submitted a second time only after an attempt whose answer
never came (the carrier may have it), and that attempt is recorded uncertain.
The ports are synchronous (PostgreSQL through a pool): the service runs them in threads.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.jetstream.payloads import OutboundMessage, Sealed
from adapters.postgres.eventstore import DATABASE_ERRORS
from adapters.smpp.smpptime import relative_smpp_time
from domain.messaging.claims import Claim, ClaimTicket
from domain.messaging.records import SubmitOutcome, SubmitResult
from services.acks import ACK, Ack, Nak
from services.handsets import handset_tail
from services.ports import Clock, Keys, OptOuts
from services.submit_parts import Carrier, Requeue, Sleep, answers, message_result, result_of

log = logging.getLogger(__name__)

REQUEUE_DELAY = 1.0
"""Seconds before a batch with a requeued message (throttled, queue full) is offered again."""
RESUBMIT_AFTER = 30.0
"""Seconds an attempt whose answer is lost waits before its message is submitted again (the
default of a bind's ``resubmit_after``): meanwhile its receipt, if the carrier had it, settles
it (``domain.messaging.claims.InDoubt``) and it is not sent twice."""
HELD_DELAY = 20.0
"""Seconds before a batch with a message another live sender is at is offered again (by then
that sender has recorded it, or its lease has run out)."""
FLUSH_AT = 250
"""Results recorded together at most (one ``CarrierReport``)."""
FLUSH_AFTER = 0.2
"""Seconds a result waits at most for others to be recorded with."""
RECORD_RETRY = (0.5, 1.0, 2.0, 5.0)
"""Pauses between attempts to record a report the database refused (then every 5 s)."""
CANCELLATION_TTL = 1.0
"""Seconds a send's cancellation state is trusted: a cancellation stops its messages within
about a second, while a campaign's batches cost one load of their send a second, not one each."""


class Claims(Protocol):
    """The submit claims of this sender (``adapters.postgres.claims.PostgresClaims``)."""

    def earlier(self, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        """The claims the messages have (a redelivery finds them), each saying whether a
        live sender holds it."""
        ...

    def take(self, tickets: Sequence[ClaimTicket]) -> set[UUID]:
        """Claim each ticket's attempt right before the write, if the claim is still as
        triage saw it (nobody took it meanwhile); the ids taken."""
        ...

    def give_back(self, message_ids: Iterable[UUID]) -> None:
        """Give back the first-attempt claims of messages never written to the carrier."""
        ...


class Cancellations(Protocol):
    """Which sends were cancelled (``adapters.send_states.SendCancellations``)."""

    def cancelled(self, send_ids: Collection[UUID]) -> set[UUID]:
        """The cancelled ones among ``send_ids`` (one lookup for all of them)."""
        ...


class ResultRecorder(Protocol):
    """Records submit results with their claims' states and carrier-id index rows, in one
    transaction (``adapters.postgres.claims.ResultRecorder``)."""

    def record(self, results: Sequence[SubmitResult], handsets: Mapping[UUID, str]) -> None:
        """``handsets``: each submitted message's ``handset_tail`` (the index keeps it)."""
        ...


Submit = tuple[OutboundMessage, int]
"""A message to submit and its attempt number (a tuple: one is made per message sent)."""


@dataclass(frozen=True, slots=True)
class Triage:
    results: list[SubmitResult]
    """To record without a submit: earlier attempts' uncertainty, cancellations, expiries."""
    to_submit: list[Submit]
    held: list[UUID]
    """Messages a live sender is at: left alone now."""
    waiting: dict[UUID, float]
    """Messages whose answer was lost (their sender died after writing them: recorded
    uncertain now; or recorded uncertain less than the resubmit delay ago), with the seconds
    until they may go again; meanwhile a receipt may settle them."""


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
    resubmit_after: float | None = RESUBMIT_AFTER,
) -> Triage:
    """What each message needs (see step 2 above). ``opted_out`` names messages,
    ``cancelled_sends`` sends; ``earlier`` is what ``Claims.earlier`` answered. A message
    whose answer was lost goes again once ``resubmit_after`` seconds have passed since; None:
    never (it is reported uncertain)."""
    results: list[SubmitResult] = []
    to_submit: list[Submit] = []
    held: list[UUID] = []
    waiting: dict[UUID, float] = {}
    epoch = now.timestamp()
    for message in messages:
        claim = earlier.get(message.message_id)
        if claim is not None and claim.final:
            continue
        if claim is not None and claim.in_work:
            held.append(message.message_id)
            continue
        uncertain = claim is not None and claim.state == SubmitOutcome.UNCERTAIN
        if uncertain and resubmit_after is None:
            continue  # reported uncertain, never sent twice
        attempt = 1 if claim is None else claim.attempt + 1
        interrupted = claim is not None and claim.interrupted
        wait = 0.0
        if interrupted and resubmit_after is not None:
            wait = resubmit_after
        elif uncertain and claim is not None and resubmit_after is not None:
            wait = max(0.0, resubmit_after - claim.age)
        if interrupted:
            results.append(
                result_of(
                    message, SubmitOutcome.UNCERTAIN, route=route, attempt=attempt - 1, at=now
                )
            )
        if message.message_id in opted_out or message.send_id in cancelled_sends:
            outcome = SubmitOutcome.CANCELLED
        elif epoch > deadline(message, validity):
            outcome = SubmitOutcome.EXPIRED
        elif interrupted and resubmit_after is None:
            continue
        elif wait > 0:  # not yet: its receipt may still settle it (see RESUBMIT_AFTER)
            waiting[message.message_id] = wait
            continue
        else:
            to_submit.append((message, attempt))
            continue
        results.append(result_of(message, outcome, route=route, attempt=attempt, at=now))
    return Triage(results, to_submit, held, waiting)


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
    waiting: Mapping[UUID, float],
    held: Collection[UUID] = (),
) -> list[Ack | Nak]:
    """The answer to each NATS message (given as the messages it held), once the results are
    recorded: its messages that were requeued, wait to be submitted again (``waiting``: the
    seconds until then) or are another sender's are why it comes again (the soonest first: a
    message offered again too early only waits again)."""
    if not requeued and not waiting and not held:
        return [ACK] * len(batches)
    answers: list[Ack | Nak] = []
    for batch in batches:
        ids = {m.message_id for m in batch}
        delays = [waiting[i] for i in ids if i in waiting]
        if not ids.isdisjoint(requeued):
            answers.append(Nak(REQUEUE_DELAY))
        elif delays:
            answers.append(Nak(max(REQUEUE_DELAY, min(delays))))
        elif not ids.isdisjoint(held):
            answers.append(Nak(HELD_DELAY))
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
        resubmit_after: float | None = RESUBMIT_AFTER,
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
        self.resubmit_after = resubmit_after
        """Seconds before a message whose answer was lost is submitted again; ``None``: never
        (it stays uncertain, unless its receipt settles it)."""
        self._cancelled: dict[UUID, tuple[float, bool]] = {}
        self._sink: ResultSink | None = None
        self._waves: ClaimWaves | None = None

    async def submit(self, batches: Sequence[Sequence[OutboundMessage]]) -> list[Ack | Nak]:
        """Submit the messages of ``batches`` (one per NATS message) and record what came of
        them; the answer to each NATS message, in order."""
        by_id = {m.message_id: m for batch in batches for m in batch}
        messages = by_id.values()
        # A message's number and text are sealed under the same recipient key: each key id
        # is parsed once per batch.
        key_ids = {k: UUID(k) for k in {k for m in messages for k in (m.number.k, m.text.k)}}
        earlier, opted, cancelled, _ = await asyncio.gather(
            asyncio.to_thread(self.claims.earlier, list(by_id)),
            asyncio.to_thread(opted_out, self.opt_outs, messages),
            self._cancelled_sends({m.send_id for m in messages}),
            asyncio.to_thread(self.keys.prefetch, list(key_ids.values())),
        )
        now = self.clock()
        plan = triage(
            messages,
            earlier,
            opted,
            cancelled,
            now=now,
            validity=self.validity,
            route=self.route,
            resubmit_after=self.resubmit_after,
        )
        # Shared by the batches in work, so that their claims and results are written
        # together (made here: they belong to the running event loop).
        sink = self._sink = self._sink or ResultSink(self.recorder, self.sleep)
        waves = self._waves = self._waves or ClaimWaves(self.claims)
        pending = [sink.add(plan.results)]
        outcomes = await asyncio.gather(
            *(
                self._submit(m, attempt, key_ids, now, waves, sink, pending)
                for m, attempt in plan.to_submit
            )
        )
        await sink.recorded(pending)
        requeued: set[UUID] = set()
        waiting = dict(plan.waiting)
        for (message, _), outcome in zip(plan.to_submit, outcomes, strict=True):
            if isinstance(outcome, Requeue):
                requeued.add(message.message_id)
            elif outcome.outcome is SubmitOutcome.UNCERTAIN and self.resubmit_after is not None:
                waiting[message.message_id] = self.resubmit_after
        if requeued:
            await _until_done(self.sleep, self.claims.give_back, requeued)
        return acknowledgements(batches, requeued, waiting, plan.held)

    async def _submit(
        self,
        message: OutboundMessage,
        attempt: int,
        key_ids: Mapping[str, UUID],
        now: datetime,
        waves: ClaimWaves,
        sink: ResultSink,
        pending: list[asyncio.Future[None] | None],
    ) -> SubmitResult | Requeue:
        number = opened(self.keys, message.number, key_ids)
        text = None if number is None else opened(self.keys, message.text, key_ids)
        if number is None or text is None:  # the person was erased after it was recorded
            result = result_of(
                message, SubmitOutcome.CANCELLED, route=self.route, attempt=attempt, at=now
            )
            pending.append(sink.add([result]))
            return result
        left = int(deadline(message, self.validity) - now.timestamp())
        handset = handset_tail(self.keys, number)
        sink.handsets[message.message_id] = handset
        ticket = ClaimTicket(
            message_id=message.message_id,
            attempt=attempt,
            handset=handset,
            send_id=message.send_id,
            account_id=message.account_id,
            index=message.index,
            parts=message.parts,
            price=message.price,
        )

        async def admit() -> bool:
            return await waves.take(ticket)

        parts = await answers(
            self.carrier, message, number, text, relative_smpp_time(left), self.sleep, admit
        )
        outcome = message_result(message, parts, route=self.route, attempt=attempt, at=self.clock())
        if not isinstance(outcome, Requeue):
            pending.append(sink.add([outcome]))
        return outcome

    async def _cancelled_sends(self, send_ids: set[UUID]) -> set[UUID]:
        """Which of the sends were cancelled; a send not asked about within the last
        ``CANCELLATION_TTL`` seconds is asked again, all of them in one lookup."""
        now = self.clock().timestamp()
        known = self._cancelled
        stale = [s for s in send_ids if (c := known.get(s)) is None or c[0] < now]
        found = await asyncio.to_thread(self.cancellations.cancelled, stale) if stale else set()
        for send_id in stale:
            known[send_id] = (now + CANCELLATION_TTL, send_id in found)
        if len(known) > 10_000:  # forget sends no batch asked about for a while
            self._cancelled = {s: c for s, c in known.items() if c[0] >= now}
        return {s for s in send_ids if known[s][1]}


class ClaimWaves:
    """Takes the claims of the messages whose first parts reach the wire together with one
    ``Claims.take``, while their window slots wait. One take is in flight at a time: what
    reaches the wire while it runs goes in the next one, so a busy sender writes fewer, larger
    statements (as a group commit does) and an idle one waits for none. A message whose claim
    cannot be taken (another sender took it, or the database is away) stays unsent."""

    def __init__(self, claims: Claims) -> None:
        self.claims = claims
        self._pending: list[tuple[ClaimTicket, asyncio.Future[bool]]] = []
        self._running: asyncio.Task[None] | None = None
        self._scheduled = False

    async def take(self, ticket: ClaimTicket) -> bool:
        loop = asyncio.get_running_loop()
        taken: asyncio.Future[bool] = loop.create_future()
        self._pending.append((ticket, taken))
        self._schedule(loop)
        return await taken

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._scheduled and self._running is None:
            self._scheduled = True
            loop.call_soon(self._flush)  # the rest of this turn's first parts join the wave

    def _flush(self) -> None:
        self._scheduled = False
        if self._running is not None or not self._pending:
            return
        wave, self._pending = self._pending, []
        self._running = asyncio.create_task(self._take(wave))

    async def _take(self, wave: list[tuple[ClaimTicket, asyncio.Future[bool]]]) -> None:
        try:
            taken = await asyncio.to_thread(self.claims.take, [t for t, _ in wave])
        except DATABASE_ERRORS as exc:
            log.warning("claims could not be taken; not sent", extra={"error": repr(exc)})
            taken = set()
        except Exception:  # a refused statement: unsent too, never a submit left waiting
            log.exception("claims refused by the database; not sent")
            taken = set()
        finally:
            self._running = None
            if self._pending:
                self._schedule(asyncio.get_running_loop())
        for ticket, future in wave:
            if not future.done():
                future.set_result(ticket.message_id in taken)


class ResultSink:
    """Records the results of every batch in work (they are submitted side by side): one
    report at a time, each with every result waiting when it starts (a group commit: a busy
    sender writes fewer, larger reports), each tried until the database takes it (see the
    module docstring). An idle sink writes a result once ``FLUSH_AT`` are waiting or the
    oldest has waited ``FLUSH_AFTER`` seconds; a batch that is done asks for its results at
    once (``recorded``)."""

    def __init__(self, recorder: ResultRecorder, sleep: Sleep):
        self.recorder = recorder
        self.handsets: dict[UUID, str] = {}
        """Each submitted message's ``handset_tail`` (the carrier-id index keeps it), until
        its result is recorded."""
        self.sleep = sleep
        self._waiting: list[SubmitResult] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: asyncio.Task[None] | None = None
        self._next: asyncio.Future[None] | None = None
        """Done when the report with the results waiting now is recorded."""

    def add(self, results: Sequence[SubmitResult]) -> asyncio.Future[None] | None:
        """Queue results; the future is done once they are recorded."""
        if not results:
            return None
        loop = asyncio.get_running_loop()
        self._waiting.extend(results)
        if self._next is None:
            self._next = loop.create_future()
        pending = self._next
        if len(self._waiting) >= FLUSH_AT:
            self._flush()
        elif self._timer is None and self._writing is None:
            self._timer = loop.call_later(FLUSH_AFTER, self._flush)
        return pending

    async def recorded(self, pending: Sequence[asyncio.Future[None] | None]) -> None:
        """Wait until the results these futures stand for are recorded (written now)."""
        self._flush()
        waits = [p for p in pending if p is not None]
        if waits:
            # Shielded: a batch cancelled while it waits leaves the report (others' results
            # too) to be written.
            await asyncio.shield(asyncio.gather(*waits))

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._writing is not None or not self._waiting:
            return  # the report being written starts the next one when it is done
        report, self._waiting = self._waiting, []
        done, self._next = self._next, None
        handsets = {r.message_id: h for r in report if (h := self.handsets.pop(r.message_id, None))}
        self._writing = asyncio.create_task(self._write(report, handsets, done))

    async def _write(
        self,
        report: list[SubmitResult],
        handsets: dict[UUID, str],
        done: asyncio.Future[None] | None,
    ) -> None:
        try:
            await _until_done(self.sleep, self.recorder.record, report, handsets)
        except BaseException as exc:
            if done is not None and not done.done():
                done.set_exception(exc)
            raise
        else:
            if done is not None and not done.done():
                done.set_result(None)
        finally:
            self._writing = None
            if self._waiting:
                self._flush()


async def _until_done(sleep: Sleep, call: Callable[..., object], *args: object) -> None:
    """Run ``call`` in a thread until the database takes it (answers in hand are never
    dropped: dropping them would send their messages again)."""
    pauses = iter(RECORD_RETRY)
    while True:
        try:
            await asyncio.to_thread(call, *args)
            return
        except Exception as exc:  # noqa: BLE001 - answers in hand are never dropped
            # Kept also when the statement itself was refused (a bug to fix): the sender
            # holds the claims meanwhile, so nothing is sent again while it waits.
            pause = next(pauses, RECORD_RETRY[-1])
            outage = isinstance(exc, DATABASE_ERRORS)
            log.log(
                logging.WARNING if outage else logging.ERROR,
                "database %s the carrier's answers; trying again",
                "is away for" if outage else "refused",
                extra={"error": repr(exc), "retry_in": pause},
            )
            await sleep(pause)
