"""Webhooks against a real HTTP receiver: the poster (adapters.webhooks) does not follow
redirects, gives up on a slow receiver after its timeout, keeps the start of an error answer
and refuses loopback unless allowed; the outbox in PostgreSQL (adapters.postgres.callbacks)
with the sender (services.callbacks) delivers signed calls, retries a failing one and logs
every attempt."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from psycopg_pool import ConnectionPool
from standardwebhooks.webhooks import Webhook

from adapters.crypto.keyring import Keyring
from adapters.postgres import callbacks as outbox
from adapters.postgres.keys import PostgresKeyStore
from adapters.webhooks import AddressGuard, WebhookPoster, networks
from domain.accounts.callbacks import new_secret
from services.callbacks import CallbackSender
from tests.support.receiver import Receiver, receiver

LOOPBACK = AddressGuard(networks("127.0.0.0/8"))


@pytest.fixture
def http() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def post(poster: WebhookPoster, url: str) -> object:
    async def go() -> object:
        try:
            return await poster.post(url, {"Content-Type": "application/json"}, b"{}")
        finally:
            await poster.aclose()

    return asyncio.run(go())


def test_the_poster_answers_and_failures(http: Receiver) -> None:
    ok = post(WebhookPoster(LOOPBACK), http.url + "/ok")
    assert (ok.status, ok.error, ok.response) == (200, None, "received")  # type: ignore[attr-defined]
    failed = post(WebhookPoster(LOOPBACK), http.url + "/fail")
    assert failed.status == 500  # type: ignore[attr-defined]
    assert len(failed.response) == 500  # type: ignore[attr-defined]
    moved = post(WebhookPoster(LOOPBACK), http.url + "/redirect")
    assert moved.status == 302  # type: ignore[attr-defined]
    assert len(http.on("/ok")) == 1  # the redirect was not followed
    http.slow_seconds = 1.5
    slow = post(WebhookPoster(LOOPBACK, timeout=0.3), http.url + "/slow")
    assert slow.status is None  # type: ignore[attr-defined]
    assert "no answer within 0.3 s" in slow.error  # type: ignore[attr-defined]
    assert slow.latency_ms < 1200  # type: ignore[attr-defined]


def test_loopback_is_refused_unless_allowed(http: Receiver) -> None:
    refused = post(WebhookPoster(AddressGuard()), http.url + "/ok")
    assert refused.status is None  # type: ignore[attr-defined]
    assert "not an address we call" in refused.error  # type: ignore[attr-defined]
    assert http.on("/ok") == []
    named = post(WebhookPoster(AddressGuard()), http.url.replace("127.0.0.1", "localhost") + "/ok")
    assert "not an address we call" in named.error  # type: ignore[attr-defined]


def test_queued_callbacks_are_delivered_signed_retried_and_logged(
    database_url: str, http: Receiver
) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=4) as pool:
        keys = Keyring(os.urandom(32), PostgresKeyStore(pool))
        store = outbox.PostgresCallbacks(pool, keys)
        store.setup()
        account, person = uuid4(), uuid4()
        keys.create_key(person)
        now = datetime.now(UTC)
        calls = [
            outbox.Queued(uuid4(), account, "reply.received", uuid4(), http.url + "/ok",
                          b'{"text":"Ja"}', person, now),
            outbox.Queued(uuid4(), account, "message.status", uuid4(), http.url + "/flaky",
                          b'{"state":"delivered"}', None, now),
        ]  # fmt: skip
        with pool.connection() as conn:
            outbox.queue(conn, keys, calls)
            outbox.queue(conn, keys, calls)  # queued again after a crash: the same rows
        with pool.connection() as conn:
            (sealed,) = conn.execute(
                "SELECT body FROM callback_deliveries WHERE delivery_id = %s",
                (calls[0].delivery_id,),
            ).fetchone() or (None,)
        assert sealed is not None
        assert b"Ja" not in bytes(sealed)
        secret = new_secret()
        clock = [now]
        sender = CallbackSender(store, WebhookPoster(LOOPBACK), lambda _a, _n: [secret],
                                lambda: clock[0])  # fmt: skip

        async def rounds() -> None:
            for _ in range(3):
                await sender.round()
                await sender.drain()
                clock[0] += timedelta(minutes=1)  # past every retry's delay
            await sender.poster.aclose()  # type: ignore[attr-defined]

        asyncio.run(rounds())
        (got,) = http.on("/ok")
        assert got.body == b'{"text":"Ja"}'
        assert got.headers["Webhook-Id"] == str(calls[0].delivery_id)
        verifier = Webhook(secret)
        verifier._Webhook__verify_timestamp = lambda _t: now  # type: ignore[attr-defined]
        assert verifier.verify(got.body, got.headers) == {"text": "Ja"}
        assert len(http.on("/flaky")) == 3
        flaky = store.one(account, calls[1].delivery_id)
        assert flaky is not None
        assert (flaky["state"], flaky["attempts"]) == ("delivered", 3)
        assert [a["status"] for a in flaky["attempt_log"]] == [503, 503, 200]
        assert all(a["latency_ms"] > 0 for a in flaky["attempt_log"])
        assert store.redeliver(account, calls[1].delivery_id, clock[0])
        assert store.one(account, calls[1].delivery_id)["state"] == "pending"  # type: ignore[index]
        assert not store.redeliver(uuid4(), calls[1].delivery_id, clock[0])
