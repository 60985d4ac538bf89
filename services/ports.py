"""Ports shared by several services: the clock, the key ring and the opt-out list.

A port is the smallest Protocol a service needs of something outside it. The real ones live in
``adapters/`` (``adapters.crypto.keyring.Keyring``,
``adapters.contacts.optouts.PostgresOptOuts``...), the fakes in ``tests/fakes``; a port used by
one service only is declared in that service's module.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Protocol
from uuid import UUID

Clock = Callable[[], datetime]
"""Now, timezone-aware UTC. Services never read a clock of their own."""


class Keys(Protocol):
    """Data keys and lookup hashes (``adapters.crypto.keyring.Keyring``; with a
    ``MemoryKeyStore`` it is also the unit tests' key ring)."""

    def create_key(self, key_id: UUID, owner: UUID | None = None) -> None: ...

    def create_keys(self, key_ids: Iterable[UUID], owner: UUID | None = None) -> None: ...

    def prefetch(self, key_ids: list[UUID]) -> None: ...

    def seal(self, key_id: UUID, plaintext: bytes, owner: UUID | None = None) -> bytes: ...

    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        """The plaintext, or ``None`` once the key was shredded."""
        ...

    def lookup_hash(self, account_id: UUID, value: str) -> str: ...

    def lookup_hasher(self, account_id: UUID) -> Callable[[str], bytes]: ...


class OptOuts(Protocol):
    """The account-wide opt-out (suppression) list, as the send path asks it."""

    def suppressed(self, account_id: UUID, number_hashes: Collection[str]) -> set[str]:
        """Which of the hex lookup hashes the account must not send to (one query a batch)."""
        ...
