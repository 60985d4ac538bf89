"""Dedicated inbound numbers across contexts: a staff user assigns a pool number to an account
only when the account's ``inbound_numbers`` module is unlocked, and the send path and the
replies follower ask who holds a number (``HeldNumbers``, read from the pool a few seconds at
a time: a change applies within ``CACHE_SECONDS``)."""

from __future__ import annotations

import threading
import time
from uuid import UUID

from domain.accounts.account import Module
from domain.accounts.application import Accounts
from domain.inbound.application import Inbound
from domain.inbound.numbers import InboundNumberError, InboundNumbers, number_of

CACHE_SECONDS = 5.0


class ModuleLockedError(InboundNumberError):
    """The account's dedicated inbound numbers module is not unlocked."""


class HeldNumbers:
    """Who holds a dedicated number (``None``: nobody, or no such number)."""

    def __init__(self, inbound: Inbound, cache_seconds: float = CACHE_SECONDS) -> None:
        self.inbound = inbound
        self.cache_seconds = cache_seconds
        self._held: dict[str, UUID | None] = {}
        self._until = 0.0
        self._lock = threading.Lock()

    def __call__(self, number: str) -> UUID | None:
        now = time.monotonic()
        if now >= self._until:
            with self._lock:
                if now >= self._until:
                    self._held = dict(self.inbound.numbers().assigned)
                    self._until = now + self.cache_seconds
        return self._held.get(number)


class InboundNumberAdmin:
    def __init__(self, accounts: Accounts, inbound: Inbound) -> None:
        self.accounts = accounts
        self.inbound = inbound

    def add(self, raw: str, actor: str) -> InboundNumbers:
        number = number_of(raw)
        return self.inbound.change_numbers(lambda pool: pool.add(number, actor))

    def assign(self, raw: str, account_id: UUID, actor: str) -> InboundNumbers:
        number = number_of(raw)
        if Module.INBOUND_NUMBERS not in self.accounts.account(account_id).modules:
            raise ModuleLockedError("the account's inbound numbers module is not unlocked")
        return self.inbound.change_numbers(lambda pool: pool.assign(number, account_id, actor))

    def release(self, raw: str, actor: str) -> InboundNumbers:
        number = number_of(raw)
        return self.inbound.change_numbers(lambda pool: pool.release(number, actor))
