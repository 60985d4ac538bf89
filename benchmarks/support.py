"""What benchmarks share: a PostgreSQL database of their own, an API server process, timing."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx

from adapters.crypto import apikeys
from adapters.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    drop_database,
    ensure_database,
    free_port,
    postgres_answers,
    start_in_background,
    tcp_answers,
    wait_until,
)
from adapters.process import orphan_proof
from settings import Settings


@contextlib.contextmanager
def bench_settings(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at a fresh database (and NATS) for one benchmark run.

    Uses ``KONTOR_DATABASE_URL``'s server / ``KONTOR_NATS_URL`` when set; otherwise boots
    embedded servers under ``KONTOR_VAR_DIR/bench`` that stop when the benchmark ends."""
    var = settings.resolved_var_dir / "bench"
    with contextlib.ExitStack() as stack:
        server_url = settings.database_url
        if server_url is None:
            pg = EmbeddedPostgres(var / "postgres" / "data")
            pg.prepare()
            spec = pg.spec()
            process = start_in_background(spec)
            stack.callback(_stop, process, spec.stop_signal)
            wait_until(lambda: postgres_answers(spec.url), 60, "embedded PostgreSQL")
            server_url = spec.url
        name = f"kontor_bench_{secrets.token_hex(4)}"
        database_url = ensure_database(server_url, name)
        stack.callback(drop_database, server_url, name)
        nats_url = settings.nats_url
        if nats_url is None:
            store = var / f"nats-{secrets.token_hex(3)}"
            nats_spec = EmbeddedNats(store).spec()
            EmbeddedNats(store).prepare()
            nats_process = start_in_background(nats_spec)
            stack.callback(shutil.rmtree, store, True)
            stack.callback(_stop, nats_process, nats_spec.stop_signal)
            wait_until(lambda: tcp_answers(nats_spec.url), 30, "embedded NATS")
            nats_url = nats_spec.url
        pepper = settings.api_key_pepper or secrets.token_hex(32)
        yield replace(
            settings,
            database_url=database_url,
            nats_url=nats_url,
            nats_prefix=f"bench{secrets.token_hex(3)}",
            master_key=settings.master_key or secrets.token_hex(32),
            api_key_pepper=pepper,
            admin_api_key=settings.admin_api_key or apikeys.generate(pepper.encode()).plaintext,
            finance_api_key=settings.finance_api_key or apikeys.generate(pepper.encode()).plaintext,
            registrations_per_hour=1_000_000,
            log_level="WARNING",
        )


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
    for name, value in vars(settings).items():
        if value is not None:
            env[f"KONTOR_{name.upper()}"] = str(value)
    return env


@contextlib.contextmanager
def api_server(settings: Settings, log_path: Path) -> Iterator[str]:
    """A real ``kontor api`` process on a free port; yields its base URL."""
    port = free_port()
    env = settings_env(replace(settings, http_port=port, metrics_port=0))
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            orphan_proof([sys.executable, "-m", "kontor", "api"]),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(url + "/ready"), 60, "the API")
        yield url
    finally:
        _stop(process, 15)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(statistics.fmean(ordered), 3),
    }


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.start


GERMAN_MOBILE_PREFIXES = ("151", "152", "157", "159", "160", "162", "163", "170", "171", "172",
                          "173", "174", "175", "176", "177", "178", "179")  # fmt: skip


def german_mobile(rng: random.Random) -> tuple[str, str]:
    """A random valid German mobile number as (network prefix, subscriber digits): eight
    digits after a 15x prefix, seven or eight after the others."""
    prefix = rng.choice(GERMAN_MOBILE_PREFIXES)
    digits = 8 if prefix.startswith("15") or rng.random() < 0.5 else 7
    return prefix, f"{rng.randrange(10**digits):0{digits}d}"
