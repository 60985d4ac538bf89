"""The Contacts services, built once per process from the pool, keyring and audit trail."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.contacts import optouts, reading
from adapters.contacts.import_service import ImportService
from adapters.contacts.list_service import ListService
from adapters.contacts.parallel import RowPool
from adapters.contacts.privacy_service import PrivacyService
from adapters.contacts.runner import ImportRunner
from adapters.crypto.keyring import Keyring
from domain.contacts.application import Contacts
from domain.contacts.numbers import NumberNormaliser


@dataclass
class ContactServices:
    pool: ConnectionPool[Any]
    keyring: Keyring
    contacts: Contacts
    normaliser: NumberNormaliser = field(default_factory=NumberNormaliser)

    def __post_init__(self) -> None:
        self.lists = ListService(self.pool, self.keyring, self.contacts, self.normaliser)
        self.imports = ImportService(self.pool, self.keyring)
        self.privacy = PrivacyService(self.pool, self.keyring, self.contacts, self.normaliser)

    def runner(self, row_pool: RowPool | None = None) -> ImportRunner:
        return ImportRunner(self.pool, self.keyring, self.contacts, self.normaliser, row_pool)

    def suppressed_hashes(self, account_id: UUID, hashes: Collection[str]) -> set[str]:
        """See ``optouts.suppressed_hashes``."""
        return optouts.suppressed_hashes(self.pool, account_id, hashes)

    def iter_recipients(
        self, account_id: UUID, list_id: UUID, *, batch_size: int = 1000, after: int = 0
    ) -> Iterator[list[reading.ListRecipient]]:
        """See ``reading.iter_recipients``."""
        return reading.iter_recipients(
            self.pool, self.keyring, account_id, list_id, batch_size=batch_size, after=after
        )

    def size(self, account_id: UUID, list_id: UUID) -> int:
        """See ``reading.list_size`` (the list acceptance's ``ListChunks``)."""
        return reading.list_size(self.pool, account_id, list_id)

    def chunk(
        self, account_id: UUID, list_id: UUID, after: int, size: int
    ) -> list[reading.ListRecipient]:
        """The next ``size`` recipients after id ``after`` (``ListChunks``)."""
        return next(self.iter_recipients(account_id, list_id, batch_size=size, after=after), [])
