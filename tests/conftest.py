"""Test tiers by folder, hypothesis profiles, and the session's real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from hypothesis import HealthCheck, settings
from nats.aio.client import Client as NatsClient

from adapters.embedded import drop_database, ensure_database
from adapters.postgres.migrations import migrate
from settings import Settings
from tests.support.servers import session_nats, session_postgres, unique_name

# "ci" keeps property tests inside the CI budget; "dev" digs deeper when run by hand.
settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TIERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        for tier in TIERS:
            if tier in parts:
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(autouse=True)
def _collector_thresholds_restored() -> Iterator[None]:
    """An app started in-process settles the garbage collector for its process
    (adapters/gcpolicy.py); here that process is the test run, so put it back after each test."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    with session_postgres(os.environ.get("KONTOR_TEST_DATABASE_URL")) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(pg_server_url: str) -> Iterator[str]:
    """A database of this session's own on the test PostgreSQL server, dropped at the end."""
    name = unique_name("kontor_test_")
    url = ensure_database(pg_server_url, name)
    migrate(url)  # as `kontor up` does before it starts anything
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture
def fresh_database_url(pg_server_url: str) -> Iterator[str]:
    """A database of this test's own, for tests that read global figures (trial balance)."""
    name = unique_name("kontor_t_")
    url = ensure_database(pg_server_url, name)
    migrate(url)
    yield url
    drop_database(pg_server_url, name)


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with session_nats(os.environ.get("KONTOR_TEST_NATS_URL")) as url:
        yield url


@pytest.fixture(scope="session")
def nats_prefix(nats_url: str) -> Iterator[str]:
    """This session's stream and subject prefix; its streams are deleted at the end."""
    prefix = unique_name("t")
    yield prefix
    asyncio.run(_delete_streams(nats_url, prefix))


async def _delete_streams(url: str, prefix: str) -> None:
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        for stream in await js.streams_info():
            if stream.config.name and stream.config.name.startswith(prefix.upper()):
                await js.delete_stream(stream.config.name)
    finally:
        await nc.close()


@pytest.fixture
def settings_for_tests(
    database_url: str, nats_url: str, nats_prefix: str, tmp_path: Path
) -> Settings:
    from tests.support.api import settings_with_secrets

    return settings_with_secrets(
        Settings(
            database_url=database_url,
            nats_url=nats_url,
            nats_prefix=nats_prefix,
            var_dir=tmp_path / "var",
            log_json=False,
            metrics_port=0,  # a free port: sessions of several people share the machine
        )
    )


@pytest.fixture
async def nats_client(nats_url: str) -> AsyncIterator[NatsClient]:
    nc = await nats.connect(nats_url)
    yield nc
    await nc.close()
