"""Dedicated inbound numbers ("exklusive Empfangsnummern"): numbers of the platform's pool that
a staff user assigns to one account (when its ``inbound_numbers`` module is unlocked). The
account may send from its numbers as numeric sender, no other account may, and a reply that
comes to one of them belongs to that account whatever the correlation window.

The pool is one aggregate (a staff user's few changes a day; every reply reads it): numbers
as digits without ``+`` or ``00``, the way sends keep numeric sender IDs.
"""

from __future__ import annotations

import re
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

POOL_ID = uuid5(UUID("5b0c2a4e-0f5e-4f0b-8a11-3c1c6f1e7d22"), "inbound-numbers")
_DIGITS = re.compile(r"^[1-9][0-9]{5,14}$")


class InboundNumberError(ValueError):
    """A number that cannot be added, assigned or released; the message says why."""


class NumberTakenError(InboundNumberError):
    """The number is assigned to another account."""


def number_of(raw: str) -> str:
    """``+49 170 1234567``, ``0049...`` or ``49...`` as the pool keeps it, or
    ``InboundNumberError``."""
    digits = re.sub(r"[\s/()-]", "", raw.strip())
    digits = digits.removeprefix("+") if digits.startswith("+") else digits.removeprefix("00")
    if not _DIGITS.match(digits):
        raise InboundNumberError(f"{raw!r}: an international number of 6 to 15 digits")
    return digits


class InboundNumbers(Aggregate):
    """The pool: each number, and the account it is assigned to (``None``: free)."""

    assigned: dict[str, UUID | None]

    @staticmethod
    def create_id() -> UUID:
        return POOL_ID

    class Created(Aggregate.Created):
        pass

    @event(Created)
    def __init__(self) -> None:
        self.assigned = {}

    class Added(Aggregate.Event):
        number: str
        actor: str

    def add(self, number: str, actor: str) -> None:
        if number in self.assigned:
            raise InboundNumberError(f"{number} is in the pool already")
        self._added(number, actor)

    @event(Added)
    def _added(self, number: str, actor: str) -> None:
        self.assigned[number] = None

    class Assigned(Aggregate.Event):
        number: str
        account_id: UUID
        actor: str

    def assign(self, number: str, account_id: UUID, actor: str) -> None:
        if number not in self.assigned:
            raise InboundNumberError(f"{number} is not in the pool")
        holder = self.assigned[number]
        if holder == account_id:
            return
        if holder is not None:
            raise NumberTakenError(f"{number} is assigned to another account")
        self._assigned(number, account_id, actor)

    @event(Assigned)
    def _assigned(self, number: str, account_id: UUID, actor: str) -> None:
        self.assigned[number] = account_id

    class Released(Aggregate.Event):
        number: str
        actor: str

    def release(self, number: str, actor: str) -> None:
        if number not in self.assigned:
            raise InboundNumberError(f"{number} is not in the pool")
        if self.assigned[number] is not None:
            self._released(number, actor)

    @event(Released)
    def _released(self, number: str, actor: str) -> None:
        self.assigned[number] = None

    def account_for(self, number: str) -> UUID | None:
        return self.assigned.get(number)

    def of_account(self, account_id: UUID) -> list[str]:
        return sorted(n for n, holder in self.assigned.items() if holder == account_id)
