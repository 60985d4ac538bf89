"""A client that reads its message right after the 201 sees it, although the read models are
kept by another process a moment later (``GET /v1/messages/{id}`` waits for them to apply what
was recorded before the request)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from typing import Any

import pytest

from settings import Settings
from tests.support.api import ApiHarness, running_api
from workers.projections import messaging_runner


@pytest.fixture
def api_without_nats(settings_for_tests: Settings, fresh_database_url: str) -> Any:
    # NATS away: the send is recorded and left to the relay, which does not run here.
    settings = replace(
        settings_for_tests, database_url=fresh_database_url, nats_url="nats://127.0.0.1:9"
    )
    with running_api(settings) as harness:
        yield harness


def test_a_message_read_right_after_its_201_is_found(api_without_nats: ApiHarness) -> None:
    harness = api_without_nats
    customer, sent = harness.send_single()
    message_id = sent["messages"][0]["message_id"]
    runner = messaging_runner(harness.backend)
    # The read models apply the send a moment after the client asks.
    late = threading.Timer(0.3, runner.catch_up)
    late.start()
    try:
        response = harness.client.get(f"/v1/messages/{message_id}", headers=customer.headers)
    finally:
        late.join()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"]["message_id"] == message_id
    assert [entry["event"] for entry in body["history"]] == ["recorded"]
    assert body["to"] == "004915112345678"


def test_an_unknown_message_is_still_not_found(api_without_nats: ApiHarness) -> None:
    harness = api_without_nats
    customer, _ = harness.send_single()
    messaging_runner(harness.backend).catch_up()
    response = harness.client.get(f"/v1/messages/{uuid.uuid4()}", headers=customer.headers)
    assert response.status_code == 404
    assert response.json()["type"].endswith("not-found")


def test_another_account_s_message_stays_hidden(api_without_nats: ApiHarness) -> None:
    harness = api_without_nats
    _, sent = harness.send_single()
    other = harness.register()
    messaging_runner(harness.backend).catch_up()
    message_id = sent["messages"][0]["message_id"]
    response = harness.client.get(f"/v1/messages/{message_id}", headers=other.headers)
    assert response.status_code == 404
