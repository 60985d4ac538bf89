"""What ``kontor up`` starts, in order: PostgreSQL, NATS JetStream, the API, every worker.

PostgreSQL and NATS are embedded unless ``KONTOR_DATABASE_URL`` / ``KONTOR_NATS_URL`` point at
servers of your own. Their ports are chosen once per ``up`` and kept across restarts of the child,
so the API and workers never lose track of them (the API's metrics port too).

The workers start together once the API is ready (``GET /ready`` answers 200: PostgreSQL and
NATS answer), and each is ready when its heartbeat row (``adapters/postgres/heartbeats.py``,
same host and pid) says so: its backend and NATS are open and a round of its loop has run (the
projections: they have caught up with what was recorded before). "Kontor is up" waits for all.
"""

from __future__ import annotations

import asyncio
import secrets
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats

from adapters.carriers import simulator_carriers
from adapters.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    ensure_database,
    free_port,
    postgres_answers,
    tcp_answers,
    with_database,
)
from adapters.postgres.migrations import migrate
from kontor.processes import TX_NICE, database_name, instances, niced
from kontor.secrets import generated_secrets, secrets_env, write_private
from kontor.supervisor import ChildSpec, ReadyCheck, Supervisor, write_state
from kontor.worker_reports import WorkerReports
from settings import Settings

DATABASE_NAME = "kontor"
WORKER_READY_TIMEOUT = 120.0
"""Seconds a worker may take to report ready (a loaded machine starts a dozen at once)."""
MAIL_PAGE = "mail-page"
"""The file under ``var/run`` naming the local mail sink's page."""
CATCH_UP_TIMEOUT = 900.0
"""Seconds the projections may take to catch up with what was recorded before ``up``."""


@dataclass(frozen=True)
class PlatformUrls:
    database_url: str
    nats_url: str
    api_url: str
    metrics_url: str


async def _nats_ready(url: str) -> bool:
    async def quiet(_: Exception) -> None:
        return None

    nc = await nats.connect(
        url, connect_timeout=1, allow_reconnect=False, max_reconnect_attempts=0, error_cb=quiet
    )
    try:
        await nc.jetstream().account_info()
        return True
    finally:
        await nc.close()


async def _http_ready(url: str) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as client:
        return (await client.get(url)).status_code == 200


def plan(settings: Settings) -> tuple[list[ChildSpec], PlatformUrls]:
    settings = generated_secrets(settings)
    var = settings.resolved_var_dir
    children: list[ChildSpec] = []
    python = sys.executable

    if settings.database_url is None:
        pg = EmbeddedPostgres(var / "postgres" / "data")
        pg.prepare()
        pg_spec = pg.spec()
        server_url = pg_spec.url
        database_url = with_database(server_url, DATABASE_NAME)

        async def pg_ready(_: int) -> bool:
            return await asyncio.to_thread(postgres_answers, server_url)

        async def create_db() -> None:
            await asyncio.to_thread(ensure_database, server_url, DATABASE_NAME)

        children.append(
            ChildSpec(
                name="postgres",
                argv=pg_spec.argv,
                user=pg_spec.user,
                ready=pg_ready,
                after_ready=create_db,
                stop_signal=pg_spec.stop_signal,
            )
        )
    else:
        database_url = settings.database_url

    if settings.nats_url is None:
        embedded_nats = EmbeddedNats(var / "nats")
        embedded_nats.prepare()
        nats_spec = embedded_nats.spec()
        nats_url = nats_spec.url

        async def nats_ready(_: int) -> bool:
            return await _nats_ready(nats_url)

        children.append(ChildSpec(name="nats", argv=nats_spec.argv, ready=nats_ready))
    else:
        nats_url = settings.nats_url

    carriers_file = settings.carriers_file
    if carriers_file is None:
        sim_port = free_port()
        password = secrets.token_hex(4)  # SMPP passwords have at most 8 characters
        carriers_file = var / "carriers.toml"
        write_private(carriers_file, simulator_carriers(sim_port, "kontor", password))
        sim_argv = [
            python,
            "-m",
            "kontor",
            "smsc-sim",
            "--host",
            "127.0.0.1",
            "--port",
            str(sim_port),
            "--account",
            f"kontor:{password}",
            "--record",
            str(var / "smsc" / "record.sqlite"),
            *shlex.split(settings.smsc_sim_args),
        ]
        sim_url = f"smpp://127.0.0.1:{sim_port}"

        async def sim_ready(_: int) -> bool:
            return await asyncio.to_thread(tcp_answers, sim_url)

        (var / "smsc").mkdir(parents=True, exist_ok=True)
        children.append(ChildSpec(name="smsc-sim", argv=sim_argv, ready=sim_ready))

    smtp_url = settings.smtp_url or _smtp_sink(var, children)

    port = settings.http_port or free_port(settings.http_host)
    api_url = f"http://{settings.http_host}:{port}"
    metrics_port = settings.metrics_port or free_port(settings.metrics_host)
    metrics_url = f"http://{settings.metrics_host}:{metrics_port}/metrics"
    shared_env = {
        "KONTOR_DATABASE_URL": database_url,
        "KONTOR_NATS_URL": nats_url,
        "KONTOR_HTTP_PORT": str(port),
        "KONTOR_CARRIERS_FILE": str(carriers_file),
        "KONTOR_SMTP_URL": smtp_url,
        **secrets_env(settings),
    }

    async def api_ready(_: int) -> bool:
        return await _http_ready(api_url + "/ready")

    async def migrate_database() -> None:
        # Before the API and the workers: no process of an earlier release writes meanwhile.
        await asyncio.to_thread(migrate, database_url)

    children.append(
        ChildSpec(
            name="api",
            argv=niced([python, "-m", "kontor", "api"], TX_NICE),
            env={
                **shared_env,
                **database_name("api"),
                "KONTOR_METRICS_PORT": str(metrics_port),
            },
            ready=api_ready,
            before_start=migrate_database,
        )
    )
    children += worker_children(settings, shared_env, WorkerReports(database_url))
    return children, PlatformUrls(database_url, nats_url, api_url, metrics_url)


def _smtp_sink(var: Path, children: list[ChildSpec]) -> str:
    """The local SMTP sink (``KONTOR_SMTP_URL`` unset): its child, and its URL; the page that
    lists its mails is on ``MAIL_PAGE`` of ``var/run``."""
    port, page_port = free_port(), free_port()
    url = f"smtp://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "kontor", "smtp-sink", "--host", "127.0.0.1",
            "--port", str(port), "--dir", str(var / "mail"),
            "--page-port", str(page_port)]  # fmt: skip
    (var / "run").mkdir(parents=True, exist_ok=True)
    (var / "run" / MAIL_PAGE).write_text(f"http://127.0.0.1:{page_port}/\n")

    async def ready(_: int) -> bool:
        return await asyncio.to_thread(tcp_answers, url)

    children.append(ChildSpec(name="smtp-sink", argv=argv, ready=ready))
    return url


def worker_children(
    settings: Settings, env: dict[str, str], reports: WorkerReports
) -> list[ChildSpec]:
    """Every worker process, started together, each ready when its heartbeat says so."""
    processes = instances(settings)

    async def expect_them() -> None:
        await reports.expect([p.name for p in processes])

    def ready_check(name: str) -> ReadyCheck:
        async def ready(pid: int) -> bool:
            return await reports.ready(name, pid)

        return ready

    return [
        ChildSpec(
            name=f"worker-{process.name}",
            argv=niced([sys.executable, "-m", "kontor", "worker", process.worker], process.nice),
            env={**env, **process.env},
            ready=ready_check(process.name),
            ready_timeout=CATCH_UP_TIMEOUT
            if process.worker == "projections"
            else WORKER_READY_TIMEOUT,
            parallel=True,
            before_start=expect_them if n == 0 else None,
        )
        for n, process in enumerate(processes)
    ]


def _mail_line(settings: Settings) -> str:
    if settings.smtp_url:
        return settings.smtp_url
    page = settings.resolved_var_dir / "run" / MAIL_PAGE
    shown = page.read_text().strip() if page.exists() else "kontor mail"
    return f"kept in {settings.resolved_var_dir / 'mail'}, listed at {shown}"


def run_up(settings: Settings, environ: Mapping[str, str]) -> int:
    children, urls = plan(settings)
    var = settings.resolved_var_dir
    supervisor = Supervisor(
        children,
        log_dir=var / "log",
        base_env=dict(environ),
        backoff_max=settings.restart_backoff_max,
    )

    def announce() -> None:
        state = {
            "api": urls.api_url,
            "openapi": urls.api_url + "/schema",
            "docs": urls.api_url + "/schema/swagger",
            "metrics": urls.metrics_url,
            "database_url": urls.database_url,
            "nats_url": urls.nats_url,
            "pids": supervisor.pids(),
            "logs": str(var / "log"),
        }
        write_state(var / "run" / "up.json", state)
        print(
            "\n".join(
                [
                    "Kontor is up.",
                    f"  Application    {urls.api_url}/  (sign up, sign in)",
                    f"  API            {urls.api_url}",
                    f"  OpenAPI docs   {urls.api_url}/schema/swagger",
                    f"  OpenAPI JSON   {urls.api_url}/schema/openapi.json",
                    f"  Metrics        {urls.metrics_url}",
                    f"  Readiness      {urls.api_url}/ready",
                    f"  PostgreSQL     {urls.database_url}",
                    f"  NATS           {urls.nats_url}",
                    f"  Logs           {var / 'log'}",
                    f"  Mail           {_mail_line(settings)}",
                    f"  Operator keys  {var / 'secrets.json'} (admin_api_key, finance_api_key)",
                    "Press Ctrl-C to stop.",
                ]
            ),
            flush=True,
        )

    supervisor.announce = announce
    return asyncio.run(supervisor.run())
