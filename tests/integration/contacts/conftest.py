from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from settings import Settings
from tests.support.api import ApiHarness, running_api


@pytest.fixture
def api(settings_for_tests: Settings) -> Iterator[ApiHarness]:
    """The API on the session's database (every test registers its own accounts)."""
    with running_api(settings_for_tests) as harness:
        yield harness


@pytest.fixture
def fresh_api(settings_for_tests: Settings, fresh_database_url: str) -> Iterator[ApiHarness]:
    """The API on a database of this test's own (for tests that search every table)."""
    with running_api(replace(settings_for_tests, database_url=fresh_database_url)) as harness:
        yield harness
