"""Real PostgreSQL and NATS JetStream for the test session.

``KONTOR_TEST_DATABASE_URL`` / ``KONTOR_TEST_NATS_URL`` name servers to use; otherwise embedded
servers boot once per session (data under ``var/test/`` in the checkout) and stop with it. Each
session gets its own database and its own NATS prefix, so runs never see each other's data.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapters.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    ServerSpec,
    postgres_answers,
    start_in_background,
    tcp_answers,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
TEST_VAR = ROOT / "var" / "test"


@dataclass
class RunningServer:
    url: str
    process: subprocess.Popen[bytes] | None
    spec: ServerSpec | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.spec.stop_signal if self.spec else signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def start_again(self) -> None:
        """Start the same server again on the same port (after ``stop``)."""
        assert self.spec is not None, "only embedded servers can be restarted"
        self.process = start_in_background(self.spec)


def boot_postgres(data_dir: Path, *, port: int | None = None) -> RunningServer:
    server = EmbeddedPostgres(data_dir, durable=False)
    server.prepare()
    spec = server.spec(port)
    process = start_in_background(spec)
    running = RunningServer(spec.url, process, spec)
    try:
        wait_until(lambda: postgres_answers(spec.url), timeout=60, what="embedded PostgreSQL")
    except TimeoutError:
        running.stop()
        raise
    return running


def boot_nats(data_dir: Path, *, port: int | None = None) -> RunningServer:
    server = EmbeddedNats(data_dir)
    server.prepare()
    spec = server.spec(port)
    process = start_in_background(spec)
    running = RunningServer(spec.url, process, spec)
    try:
        wait_until(lambda: tcp_answers(spec.url), timeout=30, what="embedded NATS")
    except TimeoutError:
        running.stop()
        raise
    return running


@contextlib.contextmanager
def session_postgres(external_url: str | None) -> Iterator[str]:
    """The URL of a PostgreSQL server (not a database) for this session."""
    if external_url:
        yield external_url
        return
    server = boot_postgres(TEST_VAR / "postgres" / "data")
    try:
        yield server.url
    finally:
        server.stop()


@contextlib.contextmanager
def session_nats(external_url: str | None) -> Iterator[str]:
    if external_url:
        yield external_url
        return
    store = TEST_VAR / f"nats-{secrets.token_hex(4)}"
    server = boot_nats(store)
    try:
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(store, ignore_errors=True)


def unique_name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(5)}"
