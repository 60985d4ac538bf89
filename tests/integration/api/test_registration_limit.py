"""The registration limit: per client address (the TCP peer unless a configured proxy says
otherwise), across API processes and restarts, and a 429 that says when to come back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import uvicorn

from kontor.cli import uvicorn_options
from kontor.samples import registration
from settings import Settings
from tests.support.api import Clock, running_api

PROBLEM = "application/problem+json"


def test_the_limit_holds_across_api_processes_and_restarts(
    settings_for_tests: Settings, fresh_database_url: str
) -> None:
    settings = replace(
        settings_for_tests, database_url=fresh_database_url, registrations_per_hour=2
    )
    clock = Clock()  # one clock for every API process (apps of one test take turns: metrics)
    with running_api(settings, clock) as first:
        assert first.client.post("/v1/accounts", json=registration("one")).status_code == 201
    clock.advance(minutes=10)
    with running_api(settings, clock) as second:
        assert second.client.post("/v1/accounts", json=registration("two")).status_code == 201
        refused = second.client.post("/v1/accounts", json=registration("three"))
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM
    assert refused.headers["retry-after"] == str(50 * 60)  # the first slot frees at 10:00
    assert refused.json()["type"].endswith("/registration-limit")
    assert refused.json()["retry_after"] == 50 * 60
    clock.advance(minutes=20)
    with running_api(settings, clock) as restarted:
        again = restarted.client.post("/v1/accounts", json=registration("three"))
        assert again.status_code == 429
        assert again.headers["retry-after"] == str(30 * 60)
        clock.advance(minutes=31)
        assert restarted.client.post("/v1/accounts", json=registration("four")).status_code == 201


def test_a_refused_registration_does_not_use_up_the_limit(
    settings_for_tests: Settings, fresh_database_url: str
) -> None:
    settings = replace(
        settings_for_tests, database_url=fresh_database_url, registrations_per_hour=1
    )
    with running_api(settings) as api:
        bad = api.client.post("/v1/accounts", json={**registration("bad"), "email": "nope"})
        assert bad.status_code == 422
        assert api.client.post("/v1/accounts", json=registration("good")).status_code == 201


async def client_address(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app answering with the client address uvicorn gives the application."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["client"][0].encode()})


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    options = {**uvicorn_options(replace(settings, http_port=0)), "lifespan": "off"}
    server = uvicorn.Server(uvicorn.Config(client_address, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_forwarded_headers_from_loopback_are_not_believed_by_default(
    settings_for_tests: Settings,
) -> None:
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    with served(settings_for_tests) as url:
        assert httpx.get(url, headers=spoofed).text == "127.0.0.1"
    with served(replace(settings_for_tests, forwarded_allow_ips="127.0.0.1")) as url:
        assert httpx.get(url, headers=spoofed).text == "203.0.113.9"  # a configured proxy
