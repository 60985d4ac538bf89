"""Webhook delivery's rules (services.callbacks) over in-memory fakes: signatures a Standard
Webhooks receiver accepts (both secrets during a rotation), retries with growing, jittered
delays for a day, every attempt recorded, redirects not followed, erased callbacks dropped,
and one account's slow receiver never holding up another's."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain.accounts.callbacks import Attempt, DueCallback, new_secret
from services.callbacks import (
    FIRST_RETRY,
    GIVE_UP_AFTER,
    LONGEST_WAIT,
    CallbackSender,
    retry_at,
    signed_headers,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@dataclass
class Answer:
    status: int | None
    latency_ms: float = 3.0
    error: str | None = None
    response: str = "ok"


@dataclass
class FakeOutbox:
    queued: list[DueCallback] = field(default_factory=list)
    attempts: list[tuple[UUID, Attempt, datetime | None]] = field(default_factory=list)
    dropped_ids: list[UUID] = field(default_factory=list)

    def due(
        self, now: datetime, limit: int, per_account: int, besides: Collection[UUID]
    ) -> list[DueCallback]:
        done = {a[0] for a in self.attempts if a[2] is None} | set(self.dropped_ids) | set(besides)
        seen: Counter[UUID] = Counter()
        found = []
        for c in self.queued:
            if c.delivery_id not in done and seen[c.account_id] < per_account:
                seen[c.account_id] += 1
                found.append(c)
        return found[:limit]

    def attempted(self, results: Sequence[tuple[UUID, Attempt, datetime | None]]) -> None:
        self.attempts.extend(results)

    def dropped(self, delivery_id: UUID, why: str) -> None:
        self.dropped_ids.append(delivery_id)


class FakePoster:
    def __init__(self, answers: Mapping[str, Answer], slow: Mapping[str, asyncio.Event] = {}):
        self.answers = answers
        self.slow = slow
        self.posted: list[tuple[str, dict[str, str], bytes]] = []

    async def post(self, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
        self.posted.append((url, dict(headers), body))
        if url in self.slow:
            await self.slow[url].wait()
        return self.answers[url]


def callback(url: str, account: UUID | None = None, body: bytes | None = b'{"a":1}',
             attempts: int = 0, created: datetime = NOW) -> DueCallback:  # fmt: skip
    return DueCallback(uuid4(), account or uuid4(), url, body, attempts, created)


def sender(outbox: FakeOutbox, poster: FakePoster, secrets: list[str], **kw: int) -> CallbackSender:
    return CallbackSender(outbox, poster, lambda _a, _n: secrets, lambda: NOW,
                          random.Random(1), **kw)  # fmt: skip


def test_the_signature_verifies_with_each_secret_that_signs() -> None:
    old, new = new_secret(), new_secret()
    delivery = uuid4()
    headers = signed_headers(delivery, [new, old], NOW, b'{"x":"\xc3\xa4"}')
    assert headers["Webhook-Id"] == str(delivery)
    assert headers["Webhook-Timestamp"] == str(int(NOW.timestamp()))
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    for secret in (old, new):
        verifier = Webhook(secret)
        verifier._Webhook__verify_timestamp = lambda _t: NOW  # type: ignore[attr-defined]
        assert verifier.verify(b'{"x":"\xc3\xa4"}', headers) == {"x": "ä"}
    stranger = Webhook(new_secret())
    stranger._Webhook__verify_timestamp = lambda _t: NOW  # type: ignore[attr-defined]
    with pytest.raises(WebhookVerificationError):
        stranger.verify(b'{"x":"\xc3\xa4"}', headers)


def test_retries_grow_with_jitter_up_to_an_hour_and_stop_after_a_day() -> None:
    rnd = random.Random(7)
    for attempts in range(1, 30):
        at = retry_at(attempts, NOW, NOW, rnd)
        assert at is not None
        step = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)
        assert NOW + step / 2 <= at <= NOW + step
    late = NOW + GIVE_UP_AFTER - timedelta(minutes=1)
    assert retry_at(25, NOW, late, rnd) is None


def test_a_2xx_is_delivered_and_an_error_is_tried_again() -> None:
    ok, broken = callback("https://ok.example/"), callback("https://broken.example/")
    outbox = FakeOutbox([ok, broken])
    poster = FakePoster({ok.url: Answer(204), broken.url: Answer(500, response="boom")})
    delivery = sender(outbox, poster, [new_secret()])

    async def go() -> None:
        assert await delivery.round() == 2
        await delivery.drain()

    asyncio.run(go())
    by_id = {a[0]: a for a in outbox.attempts}
    assert by_id[ok.delivery_id][2] is None
    assert by_id[ok.delivery_id][1].status == 204
    _, failed, retry = by_id[broken.delivery_id]
    assert (failed.number, failed.status, failed.error, failed.response) == (
        1, 500, "answered 500", "boom",
    )  # fmt: skip
    assert retry is not None
    assert NOW + FIRST_RETRY / 2 <= retry <= NOW + FIRST_RETRY


def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    moved = callback("https://moved.example/")
    outbox = FakeOutbox([moved])
    poster = FakePoster({moved.url: Answer(302)})
    attempt = asyncio.run(sender(outbox, poster, []).attempt(moved))
    assert attempt is not None
    assert attempt.error == "answered 302 (redirects are not followed)"
    assert outbox.attempts[0][2] is not None
    assert "Webhook-Signature" not in poster.posted[0][1]  # no secret yet: unsigned


def test_a_callback_failing_a_day_after_it_was_queued_is_given_up() -> None:
    old = callback("https://down.example/", attempts=30, created=NOW - GIVE_UP_AFTER)
    outbox = FakeOutbox([old])
    asyncio.run(
        sender(outbox, FakePoster({old.url: Answer(None, error="refused")}), []).attempt(old)
    )
    ((_, attempt, retry),) = outbox.attempts
    assert (attempt.number, attempt.error, retry) == (31, "refused", None)


def test_an_erased_callback_is_dropped_unsent() -> None:
    gone = callback("https://ok.example/", body=None)
    outbox, poster = FakeOutbox([gone]), FakePoster({})
    asyncio.run(sender(outbox, poster, []).attempt(gone))
    assert outbox.dropped_ids == [gone.delivery_id]
    assert poster.posted == []


def test_a_slow_receiver_holds_only_its_own_accounts_slots() -> None:
    slow_account, fast_account = uuid4(), uuid4()
    slow_url, fast_url = "https://slow.example/", "https://fast.example/"
    slow = [callback(slow_url, slow_account) for _ in range(10)]
    fast = [callback(fast_url, fast_account) for _ in range(10)]
    outbox = FakeOutbox(slow + fast)
    release = asyncio.Event()
    poster = FakePoster({slow_url: Answer(200), fast_url: Answer(200)}, {slow_url: release})
    delivery = sender(outbox, poster, [], per_account=2, in_flight=6)

    async def go() -> None:
        wanted = {c.delivery_id for c in fast}
        for _ in range(500):  # rounds until the fast account's callbacks are all through
            await delivery.round()
            await asyncio.sleep(0.005)
            if wanted <= {a[0] for a in outbox.attempts}:
                break
        finished = {a[0] for a in outbox.attempts}
        assert {c.delivery_id for c in fast} <= finished
        assert not {c.delivery_id for c in slow} & finished
        assert sum(1 for url, _, _ in poster.posted if url == slow_url) == 2
        release.set()
        await delivery.drain()

    asyncio.run(go())
