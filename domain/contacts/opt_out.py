"""OptOut: one number on one account's suppression list, and its history.

The aggregate id derives from the account and the number's keyed hash, so every opt-out of the
same number on the same account lands in the same history and a repeated request records
nothing new. A number leaves the list only by ``withdraw``, which names who asked and why; a
later opt-out puts it back (``Renewed``). When the person is erased the number's ciphertext is
removed from the working table but the hash stays, so the send path keeps suppressing them
(``NumberErased`` records that). Events carry the keyed hash, never the number.

Consumed by the send path through the opt-out table (``adapters/contacts/optouts.py``), which
the Contacts service keeps in step with this history.
"""

from __future__ import annotations

from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.contacts.exceptions import OptOutNotFoundError, OptOutWithdrawalError

OPT_OUT_NAMESPACE = UUID("6f1d2c3b-8a9e-4f5d-b6c7-d8e9f0a1b2c3")


def opt_out_id(account_id: UUID, number_hash: str) -> UUID:
    return uuid5(OPT_OUT_NAMESPACE, f"{account_id}:{number_hash}")


class OptOut(Aggregate):
    account_id: UUID
    number_hash: str
    active: bool

    @staticmethod
    def create_id(account_id: UUID, number_hash: str) -> UUID:
        return opt_out_id(account_id, number_hash)

    class Recorded(Aggregate.Created):
        account_id: UUID
        number_hash: str
        actor: str
        source: str

    @event(Recorded)
    def __init__(self, account_id: UUID, number_hash: str, actor: str, source: str) -> None:
        self.account_id = account_id
        self.number_hash = number_hash
        self.active = True

    class Renewed(Aggregate.Event):
        actor: str
        source: str

    def renew(self, actor: str, source: str) -> bool:
        """Opt out again; ``False`` (and nothing recorded) when already opted out."""
        if self.active:
            return False
        self._renewed(actor, source)
        return True

    @event(Renewed)
    def _renewed(self, actor: str, source: str) -> None:
        self.active = True

    class Withdrawn(Aggregate.Event):
        actor: str
        reason: str

    def withdraw(self, actor: str, reason: str) -> None:
        if not self.active:
            raise OptOutNotFoundError
        if not reason.strip():
            raise OptOutWithdrawalError("taking a number off the opt-out list needs a reason")
        self._withdrawn(actor, reason.strip())

    @event(Withdrawn)
    def _withdrawn(self, actor: str, reason: str) -> None:
        self.active = False

    class NumberErased(Aggregate.Event):
        actor: str

    def record_erasure(self, actor: str) -> None:
        self._number_erased(actor)

    @event(NumberErased)
    def _number_erased(self, actor: str) -> None:
        pass
