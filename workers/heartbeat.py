"""A worker process's heartbeat: its row in ``worker_processes`` (adapters/postgres/heartbeats.py).

A daemon thread with a connection of its own writes the row when the process starts, at once
when it becomes ready (``workers.runtime.READINESS``), then every ``BEAT_EVERY`` seconds, and
marks it stopped when the process stops cleanly. It never holds the worker up: a database that
is away costs a warning and a later beat.

The process is named as ``kontor up`` names it (``relay-tx``, ``carrier-2``): by its database
sessions' ``application_name`` (``kontor-<name>``, see ``kontor.processes.database_name``), else
by its worker.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from adapters.postgres import heartbeats
from workers.runtime import READINESS, Readiness

log = logging.getLogger(__name__)
APPLICATION_PREFIX = "kontor-"
LOOK_EVERY = 0.25
"""Seconds between looks at the process's readiness (a ready process is reported at once)."""


class Heartbeat:
    def __init__(
        self,
        database_url: str,
        worker: str,
        *,
        readiness: Readiness = READINESS,
        every: float = heartbeats.BEAT_EVERY,
    ) -> None:
        self.database_url = database_url
        self.worker = worker
        self.readiness = readiness
        self.every = every
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.name = worker
        self.started_at = datetime.now(UTC)
        self.ready_at: datetime | None = None
        self._stopping = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        beaten = 0.0
        while not self._stopping.is_set():
            try:
                newly_ready = self.ready_at is None and self.readiness.ready
                if newly_ready or time.monotonic() - beaten >= self.every:
                    if newly_ready:
                        self.ready_at = datetime.now(UTC)
                        log.info("worker ready", extra={"process_name": self.name})
                    if self._beat():
                        beaten = time.monotonic()
            except Exception:  # the heartbeat must outlive any surprise; the log says what
                log.exception("heartbeat failed")
                beaten = time.monotonic()
            self._stopping.wait(LOOK_EVERY)
        self._stopped()

    def _beat(self) -> bool:
        try:
            conn = self._connection()
            heartbeats.beat(
                conn,
                host=self.host,
                name=self.name,
                worker=self.worker,
                pid=self.pid,
                started_at=self.started_at,
                ready_at=self.ready_at,
            )
            return True
        except psycopg.Error as exc:
            log.warning("heartbeat not written", extra={"error": str(exc)[:300]})
            self._close()
            return False

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, autocommit=True, connect_timeout=5)
            heartbeats.setup_heartbeats(self._conn)
            heartbeats.forget_silent(self._conn)
            row = self._conn.execute("SHOW application_name").fetchone()
            application = str(row[0]) if row else ""
            if application.startswith(APPLICATION_PREFIX):
                self.name = application.removeprefix(APPLICATION_PREFIX)
        return self._conn

    def _stopped(self) -> None:
        try:
            if self._conn is not None and not self._conn.closed:
                heartbeats.stopped(self._conn, host=self.host, name=self.name, pid=self.pid)
        except psycopg.Error as exc:
            log.warning("heartbeat not marked stopped", extra={"error": str(exc)[:300]})
        self._close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
