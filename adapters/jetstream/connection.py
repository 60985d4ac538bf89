"""A NATS connection that keeps trying: processes start (and stay up) while NATS is away.

nats-py gives up when the first connect fails; a platform process should instead come up, report
itself not ready, and connect as soon as NATS answers. After the first connect nats-py's own
reconnect logic takes over (unlimited attempts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

log = logging.getLogger(__name__)


async def _log_error(exc: Exception) -> None:
    # One line per error: nats-py's default logs a full traceback for each failed reconnect
    # (every second while NATS is away, thousands of lines in a few minutes).
    log.warning("nats error", extra={"error": repr(exc)})


class NatsConnection:
    def __init__(self, url: str, *, name: str, retry_interval: float = 0.5) -> None:
        self.url = url
        self.name = name
        self.retry_interval = retry_interval
        self._client: Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        """Connect now if NATS answers, otherwise keep trying in the background."""
        self._task = asyncio.create_task(self._connect_forever(), name=f"nats-connect-{self.name}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._connected.wait()), timeout=2.0)

    async def _connect_forever(self) -> None:
        while self._client is None:
            try:
                self._client = await nats.connect(
                    self.url,
                    name=self.name,
                    connect_timeout=2,
                    reconnect_time_wait=1,
                    max_reconnect_attempts=-1,
                    allow_reconnect=True,
                    error_cb=_log_error,
                )
                self._connected.set()
            except Exception as exc:  # noqa: BLE001 - any failure means "try again later"
                log.warning("nats connect failed", extra={"error": repr(exc)})
                await asyncio.sleep(self.retry_interval)

    @property
    def client(self) -> Client:
        if self._client is None or not self._client.is_connected:
            raise ConnectionError("NATS is not connected")
        return self._client

    @property
    def jetstream(self) -> JetStreamContext:
        return self.client.jetstream()

    async def wait_connected(self, timeout: float) -> Client:
        await asyncio.wait_for(self._connected.wait(), timeout=timeout)
        return self.client

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None and not self._client.is_closed:
            # close, not drain: a pull subscription's pending fetch makes drain wait its timeout,
            # and nothing unacknowledged is lost (JetStream redelivers it).
            with contextlib.suppress(Exception):
                await self._client.close()
