"""An account's live API keys, so that its last one is never revoked.

One ``KeyChain`` per account (its id derives from the account's), saved in the same transaction
as every key issued to or revoked from the account: two revocations racing for an account's last
two keys meet on the chain's version, and the second one is refused instead of locking the
account out. Accounts registered before the chain existed get theirs built from their keys'
events the first time a key is issued or revoked (``Accounts.key_chain``).

Events: ``Started`` (the live keys at that moment), ``KeyAdded``, ``KeyRemoved``.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.accounts.exceptions import LastApiKeyError

KEY_CHAIN_NAMESPACE = UUID("0b7f2f6e-3c1e-4a1d-8a55-6a7d3f2c9e10")


class KeyChain(Aggregate):
    account_id: UUID
    live: list[UUID]

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return uuid5(KEY_CHAIN_NAMESPACE, str(account_id))

    class Started(Aggregate.Created):
        account_id: UUID
        live: list[UUID]

    @event(Started)
    def __init__(self, account_id: UUID, live: list[UUID]) -> None:
        self.account_id = account_id
        self.live = list(live)

    class KeyAdded(Aggregate.Event):
        key_id: UUID

    def add(self, key_id: UUID) -> None:
        if key_id not in self.live:
            self._key_added(key_id)

    @event(KeyAdded)
    def _key_added(self, key_id: UUID) -> None:
        self.live.append(key_id)

    class KeyRemoved(Aggregate.Event):
        key_id: UUID

    def remove(self, key_id: UUID) -> None:
        """Take a key off the live ones; refused for the last one (``LastApiKeyError``)."""
        if key_id not in self.live:
            return
        if len(self.live) == 1:
            raise LastApiKeyError(key_id)
        self._key_removed(key_id)

    @event(KeyRemoved)
    def _key_removed(self, key_id: UUID) -> None:
        self.live.remove(key_id)
