"""Opening the event-sourced applications against PostgreSQL (or memory) with the keyring.

One place builds what the API, the workers, the benchmarks and the tests all need, so they
cannot disagree about the event-store environment, the mapper or the data keys.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from adapters.contacts.schema import ensure_schema as ensure_contacts_schema
from adapters.contacts.services import ContactServices
from adapters.crypto.keyring import Keyring, MemoryKeyStore, parse_master_key
from adapters.postgres.eventstore import FAIL_FAST_TIMEOUT, attach_keyring, event_store_env
from adapters.postgres.keys import PostgresKeyStore
from adapters.postgres.priority import BackendPriority, follow_priority
from adapters.postgres.schema import schema_lock
from domain.accounts.application import Accounts
from domain.contacts.application import Contacts
from domain.inbound.application import Inbound
from domain.ledger.application import Ledger
from domain.messaging.application import Messaging
from settings import Settings

log = logging.getLogger(__name__)


class MissingSecretError(RuntimeError):
    """The API and workers need KONTOR_MASTER_KEY and KONTOR_API_KEY_PEPPER (``kontor up``
    generates both on first start)."""


@dataclass
class Backend:
    """The applications and the synchronous pool their read models and keys use."""

    accounts: Accounts
    ledger: Ledger
    messaging: Messaging
    keyring: Keyring
    pool: ConnectionPool[Any] | None
    pepper: bytes
    contacts: Contacts
    inbound: Inbound
    contact_services: ContactServices | None = None
    """Lists, imports, opt-outs and erasure (``None`` without PostgreSQL)."""
    priority: BackendPriority | None = None
    """This process's database backends at its own priority, when it runs ahead of the others
    (see ``pgpriority``)."""

    def close(self) -> None:
        if self.priority is not None:
            self.priority.close()
        self.accounts.close()
        self.ledger.close()
        self.messaging.close()
        self.contacts.close()
        self.inbound.close()
        if self.pool is not None:
            self.pool.close()


def pepper_of(settings: Settings) -> bytes:
    if not settings.api_key_pepper:
        raise MissingSecretError("KONTOR_API_KEY_PEPPER is not set")
    return settings.api_key_pepper.encode()


AGGREGATE_CACHE = 5_000
"""Wallets and reservations each process keeps (an LRU cache, fast-forwarded on use)."""


def open_backend(settings: Settings, *, pool_size: int = 8, fail_fast: bool = False) -> Backend:
    """Applications on PostgreSQL at ``settings.database_url`` (in memory when it is None).
    ``fail_fast`` for a process that answers requests: waiting for a database connection gives
    up after ``FAIL_FAST_TIMEOUT`` seconds, so an outage is answered at once (503), not after
    a minute of retries; workers keep waiting and retrying instead."""
    if not settings.master_key:
        raise MissingSecretError("KONTOR_MASTER_KEY is not set")
    master_key = parse_master_key(settings.master_key)
    pool: ConnectionPool[Any] | None = None
    if settings.database_url is not None:
        pool = ConnectionPool(
            settings.database_url,
            min_size=1,
            max_size=pool_size,
            open=True,
            name="kontor-sync",
            timeout=FAIL_FAST_TIMEOUT if fail_fast else 30.0,
            check=ConnectionPool.check_connection if fail_fast else None,
        )
        keyring = Keyring(master_key, PostgresKeyStore(pool))
        ensure_contacts_schema(pool)
    else:
        keyring = Keyring(master_key, MemoryKeyStore())
    env = event_store_env(settings.database_url, fail_fast=fail_fast)
    # The ledger's wallets and reservations are read on every send and every settled batch:
    # each process keeps the ones it used, and a get reads only the events recorded since
    # (eventsourcing's fast-forward) instead of the last snapshot and everything after it.
    # Only the ledger: it holds no personal data, which must not outlive an erasure in memory.
    ledger_env = {**env, "AGGREGATE_CACHE_MAXSIZE": str(AGGREGATE_CACHE)}
    with schema_lock(pool):
        accounts = Accounts(env=env)
        ledger = Ledger(env=ledger_env)
        messaging = Messaging(env=env)
        contacts = Contacts(env=env)
        inbound = Inbound(env=env)
    for app in (accounts, ledger, messaging, contacts, inbound):
        attach_keyring(app, keyring)
    services = None if pool is None else ContactServices(pool, keyring, contacts)
    # The database sessions of a process that runs ahead (the API, the transactional lane, where
    # permitted) follow its CPU priority.
    priority = (
        None
        if pool is None or settings.database_url is None
        else follow_priority(pool, settings.database_url)
    )
    return Backend(
        accounts,
        ledger,
        messaging,
        keyring,
        pool,
        pepper_of(settings),
        contacts,
        inbound,
        contact_services=services,
        priority=priority,
    )


def open_backend_patiently(settings: Settings, *, pool_size: int = 8, wait: float = 120) -> Backend:
    """``open_backend``, waiting for PostgreSQL while it starts (a worker started together with
    the server, or restarted while the server restarts)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return open_backend(settings, pool_size=pool_size)
        except MissingSecretError:
            raise
        except Exception as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("backend not available yet; retrying", extra={"error": repr(exc)[:300]})
            time.sleep(1.0)
