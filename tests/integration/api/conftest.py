from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from settings import Settings
from tests.support.api import ApiHarness, running_api


@pytest.fixture
def api(settings_for_tests: Settings, fresh_database_url: str) -> Iterator[ApiHarness]:
    settings = replace(settings_for_tests, database_url=fresh_database_url)
    with running_api(settings) as harness:
        yield harness
