"""``kontor up`` as a user runs it: embedded servers, readiness, restarts, clean stops."""

from __future__ import annotations

import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import psycopg
import pytest

from adapters.postgres.heartbeats import processes
from kontor.processes import instances
from settings import load_settings
from tests.support.platform import RunningPlatform, wait_gone
from tests.support.servers import TEST_VAR, unique_name


@pytest.fixture
def var_dir() -> Iterator[Path]:
    path = TEST_VAR / unique_name("up-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _wait_ready(platform: RunningPlatform, timeout: float = 60) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = platform.get("/ready")
            if last.status_code == 200:
                body: dict[str, object] = last.json()
                return body
        except Exception:  # noqa: BLE001 - the API may be restarting
            pass
        time.sleep(0.3)
    raise AssertionError(f"/ready never answered 200: {last and last.text}")


def test_up_starts_everything_and_stops_everything_on_sigterm_and_sigkill(var_dir: Path) -> None:
    platform = RunningPlatform(var_dir)
    try:
        state = platform.wait_up()
        body = _wait_ready(platform)
        assert {c["name"] for c in body["components"]} == {"postgresql", "nats-jetstream"}  # type: ignore[attr-defined]
        # "Kontor is up" waited for every worker: each had reported ready when it was printed.
        expected = {p.name for p in instances(load_settings({}))}
        with psycopg.connect(str(state["database_url"])) as conn:
            reported = {p.name: p.state for p in processes(conn)}
        assert reported == dict.fromkeys(expected, "ready")
        workers = {w["name"]: w["state"] for w in body["workers"]}  # type: ignore[attr-defined]
        assert workers == dict.fromkeys(expected, "ready")
        assert body["status"] == "ready", body["problems"]
        output = platform.output.read_text()
        assert "Kontor is up." in output
        assert str(state["api"]) in output
        assert "/schema/swagger" in output
        # The metrics are on a loopback listener of their own, not on the API's port.
        metrics_url = str(state["metrics"])
        assert metrics_url.startswith("http://127.0.0.1:")
        assert metrics_url in output
        assert not metrics_url.startswith(str(state["api"]))
        metrics = httpx.get(metrics_url, timeout=5)
        assert metrics.status_code == 200
        assert 'kontor_worker_ready{host="' in metrics.text
        assert "kontor_projection_failing{" in metrics.text
        assert platform.get("/metrics").status_code == 404
        names = {p.name() for p in platform.descendants()}
        assert "postgres" in names
        assert "nats-server" in names

        with psycopg.connect(str(state["database_url"]), autocommit=True) as conn:
            conn.execute("CREATE TABLE survivor (note text)")
            conn.execute("INSERT INTO survivor VALUES ('still here')")

        children = platform.descendants()
        assert platform.stop(signal.SIGTERM) == 0
        assert wait_gone(children) == []
    finally:
        platform.stop(signal.SIGKILL)

    again = RunningPlatform(var_dir)
    try:
        state = again.wait_up()
        _wait_ready(again)
        with psycopg.connect(str(state["database_url"])) as conn:
            row = conn.execute("SELECT note FROM survivor").fetchone()
        assert row == ("still here",)
        children = again.descendants()
        assert len(children) >= 3
        again.process.send_signal(signal.SIGKILL)
        again.process.wait(timeout=10)
        assert wait_gone(children) == []
    finally:
        again.stop(signal.SIGKILL)


def test_a_killed_api_server_is_restarted(var_dir: Path) -> None:
    platform = RunningPlatform(var_dir)
    try:
        platform.wait_up()
        _wait_ready(platform)
        first = platform.child_pid("kontor api")
        assert first is not None
        psutil.Process(first).kill()
        deadline = time.monotonic() + 60
        second = None
        while time.monotonic() < deadline:
            second = platform.child_pid("kontor api")
            if second is not None and second != first:
                break
            time.sleep(0.2)
        assert second is not None
        assert second != first
        _wait_ready(platform)
        assert "api exited" in platform.output.read_text()
    finally:
        children = platform.descendants()
        platform.stop(signal.SIGTERM)
        assert wait_gone(children) == []
