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
  the other accounts' callbacks.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from standardwebhooks.webhooks import Webhook

from domain.accounts.callbacks import Attempt, DueCallback

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
PER_ACCOUNT = 4
IN_FLIGHT = 64


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

    def due(self, now: datetime, limit: int, per_account: int) -> list[DueCallback]:
        """The callbacks due, oldest first, at most ``per_account`` of each account (so one
        account's backlog never hides another's)."""
        ...

    def attempted(self, delivery_id: UUID, attempt: Attempt, retry: datetime | None) -> None:
        """Record the attempt: delivered (2xx), to be tried again at ``retry``, or given up
        (``retry`` None and no 2xx)."""
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

    async def round(self) -> int:
        """Start the attempts that are due and fit the slots; how many were started."""
        free = self.in_flight - len(self.running)
        if free <= 0:
            return 0
        due = await asyncio.to_thread(
            self.outbox.due, self.clock(), free + len(self.running), self.per_account
        )
        started = 0
        for callback in due:
            if started >= free:
                break
            if callback.delivery_id in self.running:
                continue
            if self.busy[callback.account_id] >= self.per_account:
                continue
            self.busy[callback.account_id] += 1
            task = asyncio.create_task(self._attempt(callback))
            self.running[callback.delivery_id] = task
            started += 1
        return started

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

    async def attempt(self, callback: DueCallback) -> Attempt | None:
        """Post the callback once and record what came of it."""
        if callback.body is None:
            await asyncio.to_thread(self.outbox.dropped, callback.delivery_id, "erased")
            return None
        at = self.clock()
        secrets = await asyncio.to_thread(self.secrets, callback.account_id, at)
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
        await asyncio.to_thread(self.outbox.attempted, callback.delivery_id, attempt, retry)
        return attempt
