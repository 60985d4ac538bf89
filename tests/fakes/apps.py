"""The four event-sourced applications in memory (eventsourcing's POPO store), with a key ring
on an in-memory key store: what the services' unit tests run against instead of PostgreSQL."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres.eventstore import attach_keyring, event_store_env
from domain.accounts.application import Accounts
from domain.ledger.application import Ledger
from domain.messaging.application import Messaging


@dataclass
class MemoryApps:
    accounts: Accounts
    ledger: Ledger
    messaging: Messaging
    keyring: Keyring


def memory_apps() -> MemoryApps:
    env = event_store_env(None)
    keyring = Keyring(secrets.token_bytes(32), MemoryKeyStore())
    apps = MemoryApps(Accounts(env=env), Ledger(env=env), Messaging(env=env), keyring)
    for app in (apps.accounts, apps.ledger, apps.messaging):
        attach_keyring(app, keyring)
    return apps
