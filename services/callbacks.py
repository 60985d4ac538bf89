"""Delivering webhooks: each callback the outbox holds is posted, signed, until its receiver
answers 2xx, for at most a day.

- A callback's id (``Webhook-Id``) is fixed when it is queued and derives from the event it
  tells of, so a receiver drops a second copy: delivery is at least once (a crash between the
  receiver's answer and its recording sends it again).
- It is signed the Standard Webhooks way (``standardwebhooks``): ``Webhook-Timestamp`` is the
  attempt's, and ``Webhook-Signature`` carries one ``v1,`` signature per secret that signs now
  (during a rotation, the new and the old one).
- An attempt that gets no 2xx (an error status, no answer within 5 s, a refused address, a
  redirect, which is never followed) is tried again after an exponentially growing delay
  with jitter (``retry_at``); one still failing 24 hours after it was queued is given up.
  Every attempt is recorded: status, latency, the start of the response or the error.
- One account's slow or dead receiver never delays another's: at most ``PER_ACCOUNT``
  attempts of an account are in flight at once, and the rest of the ``IN_FLIGHT`` slots go to
  the other accounts' callbacks. A slot that frees takes the next due callback at once
  (``next_round``), so a fast receiver gets callbacks as fast as it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from standardwebhooks.webhooks import Webhook

from domain.accounts.callbacks import Attempt, DueCallback

log = logging.getLogger(__name__)

Recorded = tuple[UUID, Attempt, datetime | None]
"""A callback's id, its attempt, and when to try again (``None``: delivered or given up)."""
SECRETS_CACHE_SECONDS = 5.0

FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
PER_ACCOUNT = 32
IN_FLIGHT = 256
FETCH = 1000
"""Due callbacks the sender holds at most, waiting for a slot (at most ``FETCH // 10`` of one
account)."""


class Posted(Protocol):
    status: int | None
    latency_ms: float
    error: str | None
    response: str


class Poster(Protocol):
    """``adapters.webhooks.WebhookPoster``."""

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Posted: ...


class CallbackOutbox(Protocol):
    """``adapters.postgres.callbacks.PostgresCallbacks``."""

    def due(
        self, now: datetime, limit: int, per_account: int, besides: Collection[UUID]
    ) -> list[DueCallback]:
        """The callbacks due, oldest first, at most ``per_account`` of each account (so one
        account's backlog never hides another's), except those ``besides`` (the sender has
        them already)."""
        ...

    def attempted(self, results: Sequence[Recorded]) -> None:
        """Record attempts (one transaction): each delivered (2xx), to be tried again at its
        ``retry``, or given up (``retry`` None and no 2xx)."""
        ...

    def dropped(self, delivery_id: UUID, why: str) -> None:
        """Nothing is sent any more (its body was erased)."""
        ...


class SigningSecrets(Protocol):
    def __call__(self, account_id: UUID, now: datetime) -> list[str]:
        """The account's secrets that sign now (``domain.accounts.callbacks.signing``)."""
        ...


def retry_at(
    attempts: int, created_at: datetime, now: datetime, rnd: random.Random
) -> datetime | None:
    """When to try again after ``attempts`` failed ones: 5 s, 10 s, 20 s ... at most an hour,
    each between half and the whole of it (jitter, so receivers back from an outage are not hit
    by every sender at once); ``None`` past a day after it was queued."""
    step = FIRST_RETRY * 2 ** min(attempts - 1, 20)
    wait = min(step, LONGEST_WAIT)
    at = now + wait * (0.5 + rnd.random() / 2)
    return None if at > created_at + GIVE_UP_AFTER else at


def signed_headers(
    delivery_id: UUID, secrets: Sequence[str], at: datetime, body: bytes
) -> dict[str, str]:
    signatures = " ".join(Webhook(s).sign(str(delivery_id), at, body) for s in secrets)
    headers = {
        "Content-Type": "application/json",
        "Webhook-Id": str(delivery_id),
        "Webhook-Timestamp": str(int(at.timestamp())),
    }
    if signatures:
        headers["Webhook-Signature"] = signatures
    return headers


def delivered(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


class CallbackSender:
    def __init__(
        self,
        outbox: CallbackOutbox,
        poster: Poster,
        secrets: SigningSecrets,
        clock: Callable[[], datetime],
        rnd: random.Random | None = None,
        *,
        per_account: int = PER_ACCOUNT,
        in_flight: int = IN_FLIGHT,
    ) -> None:
        self.outbox = outbox
        self.poster = poster
        self.secrets = secrets
        self.clock = clock
        self.rnd = rnd or random.Random()  # noqa: S311 - jitter, not a secret
        self.per_account = per_account
        self.in_flight = in_flight
        self.running: dict[UUID, asyncio.Task[None]] = {}
        self.busy: Counter[UUID] = Counter()
        self.waiting: dict[UUID, deque[DueCallback]] = {}
        """Due callbacks read and not started yet, per account."""
        self.freed = asyncio.Event()
        """Set when an attempt ends: its slot may take the next due callback at once."""
        self._unrecorded: list[tuple[Recorded, asyncio.Future[None]]] = []
        self._recording: asyncio.Task[None] | None = None
        self._secrets: dict[UUID, tuple[float, list[str]]] = {}

    async def round(self, fetch: bool = True) -> int:
        """Start the attempts that fit the slots, taking the accounts in turn; how many were
        started. With ``fetch``, the due callbacks are read first (those the sender holds
        already left out)."""
        if fetch:
            held = sum(len(q) for q in self.waiting.values())
            known = set(self.running) | {c.delivery_id for q in self.waiting.values() for c in q}
            due = await asyncio.to_thread(self.outbox.due, self.clock(), FETCH - held,
                                          max(FETCH // 10, self.per_account), known)  # fmt: skip
            for callback in due:
                self.waiting.setdefault(callback.account_id, deque()).append(callback)
        started = 0
        while len(self.running) < self.in_flight:
            ready = [a for a, q in self.waiting.items() if q and self.busy[a] < self.per_account]
            if not ready:
                break
            for account_id in ready:
                if len(self.running) >= self.in_flight or self.busy[account_id] >= self.per_account:
                    continue
                callback = self.waiting[account_id].popleft()
                self.busy[account_id] += 1
                self.running[callback.delivery_id] = asyncio.create_task(self._attempt(callback))
                started += 1
        for account_id in [a for a, q in self.waiting.items() if not q]:
            del self.waiting[account_id]
        return started

    async def next_round(self, interval: float) -> None:
        """Wait until a slot was freed, or ``interval`` seconds (for callbacks that fall due)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.freed.wait(), interval)
        self.freed.clear()

    async def drain(self) -> None:
        """Wait for the attempts in flight."""
        if self.running:
            await asyncio.gather(*self.running.values(), return_exceptions=True)

    async def _attempt(self, callback: DueCallback) -> None:
        try:
            await self.attempt(callback)
        except Exception:
            log.exception("callback attempt not recorded; it is tried again",
                          extra={"delivery": str(callback.delivery_id)})  # fmt: skip
        finally:
            self.running.pop(callback.delivery_id, None)
            self.busy[callback.account_id] -= 1
            self.freed.set()

    async def attempt(self, callback: DueCallback) -> Attempt | None:
        """Post the callback once and record what came of it."""
        if callback.body is None:
            await asyncio.to_thread(self.outbox.dropped, callback.delivery_id, "erased")
            return None
        at = self.clock()
        secrets = await self._signing(callback.account_id, at)
        headers = signed_headers(callback.delivery_id, secrets, at, callback.body)
        posted = await self.poster.post(callback.url, headers, callback.body)
        number = callback.attempts + 1
        error = posted.error
        if error is None and not delivered(posted.status):
            error = f"answered {posted.status}" + (
                " (redirects are not followed)" if posted.status and 300 <= posted.status < 400
                else ""
            )  # fmt: skip
        attempt = Attempt(number, at, posted.status, posted.latency_ms, error, posted.response)
        retry = None
        if not delivered(posted.status):
            retry = retry_at(number, callback.created_at, self.clock(), self.rnd)
        await self._record((callback.delivery_id, attempt, retry))
        return attempt

    async def _signing(self, account_id: UUID, at: datetime) -> list[str]:
        """The account's signing secrets, read at most every ``SECRETS_CACHE_SECONDS``."""
        moment = time.monotonic()
        cached = self._secrets.get(account_id)
        if cached is None or cached[0] <= moment:
            secrets = await asyncio.to_thread(self.secrets, account_id, at)
            cached = (moment + SECRETS_CACHE_SECONDS, secrets)
            self._secrets[account_id] = cached
        return cached[1]

    async def _record(self, result: Recorded) -> None:
        """Record an attempt together with those that end meanwhile (one transaction for all
        of them while the previous one is being written); returns once it is written, so its
        slot (and the due query) never sees it pending after it was delivered."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unrecorded.append((result, done))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._unrecorded:
            batch, self._unrecorded = self._unrecorded, []
            try:
                await asyncio.to_thread(self.outbox.attempted, [r for r, _ in batch])
            except Exception as exc:  # noqa: BLE001 - each attempt's caller hears of it
                for _, done in batch:
                    done.set_exception(exc)
            else:
                for _, done in batch:
                    done.set_result(None)
