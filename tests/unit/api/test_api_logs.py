"""The API's log lines are the process's JSON lines; a 500's incident id is findable in them."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from api.app import create_app
from api.errors import EXCEPTION_HANDLERS
from kontor.logs import configure_logging
from settings import Settings


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """What the API process writes to stderr, configured as ``kontor api`` configures it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    configure_logging("INFO", json=True, process="api")
    yield stderr
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stderr: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.getvalue().splitlines() if line.strip()]


def test_creating_the_app_keeps_the_json_log_format(
    json_logs: io.StringIO,
) -> None:
    settings = replace(Settings(), database_url="postgresql://db/kontor", nats_url="nats://n")
    create_app(settings)
    logging.getLogger("litestar").warning("after create_app")
    logging.getLogger("api.errors").warning("also here")
    logged = lines(json_logs)
    assert [entry["event"] for entry in logged] == ["after create_app", "also here"]
    assert all(entry["process"] == "api" for entry in logged)


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


def test_a_500_logs_its_incident_with_method_and_path_as_json(
    json_logs: io.StringIO,
) -> None:
    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS, logging_config=None)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom?x=1")
    assert response.status_code == 500
    incident = response.json()["incident"]
    logged = [entry for entry in lines(json_logs) if entry.get("event") == "unhandled error"]
    assert len(logged) == 1
    entry = logged[0]
    assert (entry["incident"], entry["method"], entry["path"]) == (incident, "GET", "/boom")
    assert entry["level"] == "error"
    assert "RuntimeError" in json.dumps(entry["exception"])
