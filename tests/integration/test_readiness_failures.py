"""``/ready`` names the backend that stopped answering, and recovers when it is back."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from adapters.embedded import ensure_database
from api.app import create_app
from settings import Settings
from tests.support.servers import TEST_VAR, RunningServer, boot_nats, boot_postgres


@pytest.fixture
def own_nats() -> Iterator[RunningServer]:
    store = TEST_VAR / f"nats-stoppable-{secrets.token_hex(4)}"
    server = boot_nats(store)
    yield server
    server.stop()
    shutil.rmtree(store, ignore_errors=True)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[RunningServer]:
    server = boot_postgres(TEST_VAR / "postgres-stoppable" / "data")
    yield server
    server.stop()


async def _ready_until(
    client: AsyncTestClient[Any], status: int, timeout: float = 20
) -> dict[str, object]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get("/ready")
        if response.status_code == status or asyncio.get_running_loop().time() > deadline:
            assert response.status_code == status, response.text
            body: dict[str, object] = response.json()
            return body
        await asyncio.sleep(0.3)


async def test_ready_is_503_naming_nats_while_nats_is_stopped(
    settings_for_tests: Settings, own_nats: RunningServer
) -> None:
    settings = replace(settings_for_tests, nats_url=own_nats.url, ready_timeout=1.0)
    async with AsyncTestClient(create_app(settings)) as client:
        await _ready_until(client, 200)
        own_nats.stop()
        body = await _ready_until(client, 503)
        assert body["detail"] == "not answering: nats-jetstream"
        assert body["type"] == "https://kontor.dev/problems/not-ready"
        own_nats.start_again()
        await _ready_until(client, 200, timeout=30)


async def test_ready_is_503_naming_postgresql_while_postgresql_is_stopped(
    settings_for_tests: Settings, own_postgres: RunningServer, tmp_path: Path
) -> None:
    database_url = ensure_database(own_postgres.url, "kontor")
    settings = replace(settings_for_tests, database_url=database_url, ready_timeout=1.0)
    async with AsyncTestClient(create_app(settings)) as client:
        await _ready_until(client, 200)
        own_postgres.stop()
        body = await _ready_until(client, 503)
        assert body["detail"] == "not answering: postgresql"
        own_postgres.start_again()
        await _ready_until(client, 200, timeout=30)
