"""What every worker shares: a stop signal, NATS with the topology, the backend, a way to wait
for new events in PostgreSQL (LISTEN on the application's table channel), and its readiness.

Readiness: a worker process is ready once one of its loops has come round once. Every worker
loop asks its stop signal ``while not stop.is_set()`` before each round (a loop without an event
loop also waits on it after one), and opens its backend (and NATS, with the topology) before its
first, so the second question asked from one thread or task means that its backend is open and
a round of it has run. The stop signals made here
tell ``READINESS``; a worker may also hold readiness back for a condition of its own
(``Readiness.hold``: the projections until they have caught up). ``workers.heartbeat`` reports
it in PostgreSQL, where ``kontor up`` and ``/ready`` read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from adapters.backend import Backend, open_backend_patiently
from adapters.jetstream.connection import NatsConnection
from adapters.jetstream.topology import Topology
from settings import Settings

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 20.0
"""Seconds a worker may take to stop after SIGTERM before it exits anyway. A graceful stop
closes NATS and the database pool, which can hang when those servers are gone (a test that
stopped them first, a host going down); a worker whose parent died (``--pdeathsig``) must
then still go, not keep retrying on its own forever."""


def exit_unless_stopped_within(seconds: float, name: str) -> None:
    """Start a daemon timer that ends the process if it is still running ``seconds`` from now;
    a thread, so it fires even when the event loop is stuck."""

    def exit_now() -> None:
        log.error("stop took too long; exiting", extra={"worker": name, "seconds": seconds})
        logging.shutdown()
        os._exit(1)

    timer = threading.Timer(seconds, exit_now)
    timer.daemon = True
    timer.start()


class Readiness:
    """Whether this worker process is ready: one of its loops came round, and nothing it holds
    readiness back for is pending. One per process (``READINESS``), as its signal handlers are."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[object] = set()
        self._came_round = False
        self._holds: set[str] = set()

    def loop_asked(self, loop: object | None) -> None:
        """A loop (a thread's id, or a task) asks whether to stop, before a round."""
        if self._came_round or loop is None:
            return
        with self._lock:
            if loop in self._seen:
                self._came_round = True
                self._seen.clear()
            else:
                self._seen.add(loop)

    def hold(self, reason: str) -> Callable[[], None]:
        """Hold readiness back until the returned function is called."""
        with self._lock:
            self._holds.add(reason)

        def release() -> None:
            with self._lock:
                self._holds.discard(reason)

        return release

    @property
    def ready(self) -> bool:
        return self._came_round and not self._holds

    def waiting_for(self) -> list[str]:
        with self._lock:
            return ([] if self._came_round else ["a first round"]) + sorted(self._holds)


READINESS = Readiness()


class ThreadStop(threading.Event):
    """The stop signal of a worker without an event loop; its questions tell ``READINESS``. A
    wait on it counts as a question too: such a loop waits after its round (the sweeper's for
    ten seconds), and then it has come round."""

    def is_set(self) -> bool:
        READINESS.loop_asked(threading.get_ident())
        return super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        READINESS.loop_asked(threading.get_ident())
        return super().wait(timeout)


class LoopStop(asyncio.Event):
    """The stop signal of a worker with an event loop; its questions tell ``READINESS``."""

    def is_set(self) -> bool:
        try:
            task: Any = asyncio.current_task()
        except RuntimeError:  # asked outside a running loop
            task = None
        READINESS.loop_asked(task)
        return super().is_set()


def stopper(name: str, stop: threading.Event | asyncio.Event) -> Callable[..., None]:
    """A signal handler: the first call sets ``stop`` and gives the process ``SHUTDOWN_GRACE``
    seconds to stop before it exits anyway."""
    fired = False

    def handle(*_: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            stop.set()
            exit_unless_stopped_within(SHUTDOWN_GRACE, name)

    return handle


def stop_event_on_signals(name: str) -> threading.Event:
    """For the workers without an event loop: SIGTERM and SIGINT set the returned event (see
    ``stopper``)."""
    stop = ThreadStop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stopper(name, stop))
    return stop


@dataclass
class WorkerRuntime:
    settings: Settings
    backend: Backend
    nats: NatsConnection
    topology: Topology
    stop: asyncio.Event


def topology_of(settings: Settings) -> Topology:
    return Topology(settings.nats_prefix, duplicate_window=settings.nats_duplicate_window)


@contextlib.asynccontextmanager
async def worker_runtime(
    settings: Settings, name: str, pool_size: int = 4
) -> AsyncIterator[WorkerRuntime]:
    stop = LoopStop()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopper(name, stop))
    if settings.nats_url is None:
        raise RuntimeError("workers need KONTOR_NATS_URL")
    backend = await asyncio.to_thread(open_backend_patiently, settings, pool_size=pool_size)
    nats = NatsConnection(settings.nats_url, name=f"kontor-{name}")
    await nats.start()
    await nats.wait_connected(timeout=30)
    topology = topology_of(settings)
    await topology.ensure(nats.jetstream)
    try:
        yield WorkerRuntime(settings, backend, nats, topology, stop)
    finally:
        await nats.close()
        await asyncio.to_thread(backend.close)


class TableWaker:
    """Wakes a follower when its application inserts events (eventsourcing NOTIFYs a channel
    named after the table on every insert); polls as a fallback."""

    def __init__(self, database_url: str, channel: str) -> None:
        self.database_url = database_url
        self.channel = channel
        self._conn: psycopg.AsyncConnection[object] | None = None

    async def wait(self, timeout: float) -> None:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True
                )
                await self._conn.execute(f'LISTEN "{self.channel}"')
            async for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                break
        except psycopg.Error as exc:
            log.warning("waker lost the database", extra={"error": str(exc)})
            self._conn = None
            await asyncio.sleep(min(timeout, 1.0))

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
