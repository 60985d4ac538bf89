"""The callbacks worker: posts the webhook calls the followers queued
(``adapters.postgres.callbacks``), signed with each account's secrets, through
``services.callbacks.CallbackSender`` (retries, back-off, one account's slow receiver never
holding up another's) and ``adapters.webhooks`` (no redirects, 5 s, no private addresses but
those ``KONTOR_WEBHOOK_ALLOWED_NETWORKS`` allows).

``kontor up`` runs one: two would each post a due call once (receivers drop the second copy
by its ``Webhook-Id``, as after a crash).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from uuid import UUID

from adapters.backend import Backend, open_backend_patiently
from adapters.postgres.callbacks import PostgresCallbacks
from adapters.webhooks import AddressGuard, WebhookPoster, networks
from domain.accounts.callbacks import signing
from services.callbacks import CallbackSender
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)
INTERVAL = 0.25


class AccountSecrets:
    """Accounts' webhook secrets that sign now, read from Accounts (the sender keeps them a
    few seconds)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, account_id: UUID, now: datetime) -> list[str]:
        return signing(self.backend.accounts.account(account_id).webhook_secrets, now)


async def serve(settings: Settings, backend: Backend, stop: asyncio.Event) -> None:
    if backend.pool is None:
        raise RuntimeError("the callbacks worker needs PostgreSQL")
    store = PostgresCallbacks(backend.pool, backend.keyring)
    await asyncio.to_thread(store.setup)
    poster = WebhookPoster(AddressGuard(networks(settings.webhook_allowed_networks)))
    sender = CallbackSender(store, poster, AccountSecrets(backend), lambda: datetime.now(UTC))
    loop = asyncio.get_running_loop()
    fetched = 0.0
    try:
        while not stop.is_set():
            # read the due callbacks every INTERVAL, or at once when none is waiting; a slot
            # that frees in between takes one of those waiting
            fetch = not sender.waiting or loop.time() - fetched >= INTERVAL
            try:
                await sender.round(fetch)
                fetched = loop.time() if fetch else fetched
            except Exception:
                log.exception("callback round failed; retrying")
                await asyncio.sleep(1.0)
            await sender.next_round(INTERVAL)
        await sender.drain()
    finally:
        await poster.aclose()


def run(settings: Settings) -> int:
    stopped = stop_event_on_signals("callbacks")
    backend = open_backend_patiently(settings, pool_size=4)

    async def main() -> None:
        stop = asyncio.Event()

        async def watch() -> None:
            while not stopped.is_set():
                await asyncio.sleep(0.2)
            stop.set()

        watcher = asyncio.create_task(watch())
        try:
            await serve(settings, backend, stop)
        finally:
            watcher.cancel()

    try:
        asyncio.run(main())
    finally:
        backend.close()
    return 0
