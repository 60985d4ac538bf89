"""The registration limit: so many registrations per client address and hour.

The attempts are kept in a store all API processes share (``adapters.postgres.registration_limit``),
so neither a second API process nor a restart opens a new allowance. A registration takes a slot
before it is recorded and gives it back when it is refused for a reason of its own (the username
is taken, the form is invalid), so a typo does not count against the address; a slot of a
registration that went through is kept for the hour.

Client addresses are personal data: the store keeps a keyed digest of each, never the address.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

from adapters.crypto.inbound_keys import PLATFORM_LOOKUP
from domain.accounts.exceptions import RegistrationLimitError
from services.ports import Keys

WINDOW = timedelta(hours=1)


class RegistrationSlots(Protocol):
    """Slots per client digest, shared by every API process. ``take`` is atomic: two processes
    taking the last slot at once get one each only if two were free."""

    def take(self, client: str, now: datetime, since: datetime, limit: int) -> int | None:
        """A new slot's id, or None when ``limit`` slots were taken after ``since``."""
        ...

    def oldest(self, client: str, since: datetime) -> datetime | None:
        """When the oldest slot taken after ``since`` was taken."""
        ...

    def give_back(self, slot: int) -> None: ...


class RegistrationLimit:
    def __init__(self, slots: RegistrationSlots, per_hour: int, keys: Keys) -> None:
        self.slots = slots
        self.per_hour = per_hour
        self.keys = keys

    def digest(self, address: str) -> str:
        """The address's platform-wide lookup hash (the key ring's, as for handsets)."""
        return self.keys.lookup_hash(PLATFORM_LOOKUP, "registration:" + address)

    def take(self, address: str, now: datetime) -> int:
        """A slot for one registration from ``address`` at ``now``, or
        ``RegistrationLimitError`` with the seconds until one frees."""
        client, since = self.digest(address), now - WINDOW
        slot = self.slots.take(client, now, since, self.per_hour)
        if slot is None:
            oldest = self.slots.oldest(client, since) or now
            wait = (oldest + WINDOW - now).total_seconds()
            raise RegistrationLimitError(self.per_hour, max(1, math.ceil(wait)))
        return slot

    def give_back(self, slot: int) -> None:
        self.slots.give_back(slot)
