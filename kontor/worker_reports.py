"""The workers' heartbeat rows (``adapters/postgres/heartbeats.py``) as ``kontor up`` reads them
to tell whether each worker process it started is ready (same host, same pid)."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import psycopg

from adapters.postgres import heartbeats


class WorkerReports:
    """The workers' heartbeat rows as ``kontor up`` reads them: one query for every worker's
    ready check at most every ``FRESH_FOR`` seconds, on a connection of its own."""

    FRESH_FOR = 0.2

    def __init__(self, database_url: str, host: str | None = None) -> None:
        self.database_url = database_url
        self.host = host or socket.gethostname()
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._rows: dict[str, heartbeats.WorkerProcess] = {}
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def expect(self, names: list[str]) -> None:
        def write() -> None:
            with psycopg.connect(self.database_url, autocommit=True) as conn:
                heartbeats.setup_heartbeats(conn)
                heartbeats.expect(conn, self.host, names)

        await asyncio.to_thread(write)

    async def ready(self, name: str, pid: int) -> bool:
        async with self._lock:
            if time.monotonic() - self._read_at > self.FRESH_FOR:
                await self._read()
        row = self._rows.get(name)
        return row is not None and row.pid == pid and row.state == "ready"

    async def _read(self) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, connect_timeout=5
                )
            rows = await heartbeats.processes_async(self._conn)
        except psycopg.Error:
            self._conn = None
            raise
        self._rows = {r.name: r for r in rows if r.host == self.host}
        self._read_at = time.monotonic()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
