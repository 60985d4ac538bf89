"""The database going away: requests answer 503 with Retry-After (never a 500), and once the
server is back the pools recover by themselves."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from adapters.embedded import ensure_database, postgres_answers
from adapters.postgres.migrations import migrate
from settings import Settings
from tests.support.api import ApiHarness, running_api
from tests.support.servers import TEST_VAR, RunningServer, boot_postgres


@pytest.fixture
def postgres() -> Iterator[RunningServer]:
    place = TEST_VAR / f"outage-{secrets.token_hex(4)}"
    server = boot_postgres(place / "data")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(place, ignore_errors=True)


@pytest.fixture
def api(settings_for_tests: Settings, postgres: RunningServer) -> Iterator[ApiHarness]:
    url = ensure_database(postgres.url, "kontor")
    migrate(url)
    with running_api(replace(settings_for_tests, database_url=url)) as harness:
        yield harness


def send(api: ApiHarness, key: dict[str, str]) -> Any:
    return api.client.post(
        "/v1/messages",
        json={"to": ["+4915112345678"], "text": "Ihr Code: 4711", "sender": "Kontor"},
        headers=key,
    )


def test_requests_during_an_outage_are_503_and_work_again_after_it(
    api: ApiHarness, postgres: RunningServer
) -> None:
    customer = api.register()
    assert send(api, customer.headers).status_code == 201
    postgres.stop()
    for response in (
        send(api, customer.headers),
        api.client.get("/v1/account/balance", headers=customer.headers),
        api.client.get("/v1/account", headers=customer.headers),
    ):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) > 0
        assert "decode" not in response.text
    postgres.start_again()
    deadline = time.monotonic() + 30
    while not postgres_answers(postgres.url) and time.monotonic() < deadline:
        time.sleep(0.2)
    answers: list[int] = []
    for _ in range(40):  # until the gate opens again and the pools have reconnected
        answers.append(send(api, customer.headers).status_code)
        if answers[-1] == 201:
            break
        time.sleep(0.5)
    assert answers[-1] == 201, answers
    assert set(answers) <= {201, 503}, answers
