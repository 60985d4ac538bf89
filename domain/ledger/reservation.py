"""Reservation: the money (or, postpaid, the parts) held for one send, settled message by message.

A send's messages are numbered 0..count-1 (message ids derive from the send id and that index,
see ``message_id``). Each message is settled once: ``Captured`` when a carrier accepted it (the
price becomes revenue), ``Released`` when it failed before carrier acceptance (its credit goes
back to the wallet). Settling an index again has no effect, so redelivered worker messages cannot
charge twice. A bitmap keeps the settled indexes: 500,000 messages cost 62.5 kB of state, and
captures are recorded per batch, so loading a reservation stays fast (snapshots do the rest).

``Closed`` ends it (send complete, cancelled, or expired at schedule time + validity) and returns
whatever is still held. Captures consume the held credit earliest-expiring lot first; releases and
the close return the rest to the lots it came from (see ``Wallet.give_back``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ids import message_id
from domain.ledger.billing import Billing
from domain.ledger.exceptions import (
    InvalidAmountError,
    ReservationClosedError,
    ReservationOverdrawnError,
    UnknownMessageIndexError,
)
from domain.ledger.lots import Allocation, LotShare

RESERVATION_NAMESPACE = UUID("0b3f3c3e-58a7-4e4b-8f55-3f0a7d2f6c11")


def reservation_id_for(send_id: UUID) -> UUID:
    return uuid5(RESERVATION_NAMESPACE, str(send_id))


class Reservation(Aggregate):
    account_id: UUID
    wallet_id: UUID
    send_id: UUID
    billing: Billing
    amount: int
    parts: int
    count: int
    expires_at: datetime
    day: date
    month: str
    held: tuple[LotShare, ...]
    captured: int
    released: int
    captured_parts: int
    released_parts: int
    returned: int
    settled: bytearray
    closed: bool

    @staticmethod
    def create_id(send_id: UUID) -> UUID:
        return reservation_id_for(send_id)

    class Opened(Aggregate.Created):
        account_id: UUID
        wallet_id: UUID
        send_id: UUID
        billing: Billing
        amount: int
        parts: int
        count: int
        allocation: Allocation
        expires_at: datetime
        day: date
        month: str

    @event(Opened)
    def __init__(
        self,
        account_id: UUID,
        wallet_id: UUID,
        send_id: UUID,
        billing: Billing,
        amount: int,
        parts: int,
        count: int,
        allocation: Allocation,
        expires_at: datetime,
        day: date,
        month: str,
    ) -> None:
        self.account_id = account_id
        self.wallet_id = wallet_id
        self.send_id = send_id
        self.billing = billing
        self.amount = amount
        self.parts = parts
        self.count = count
        self.expires_at = expires_at
        self.day = day
        self.month = month
        self.held = allocation
        self.captured = 0
        self.released = 0
        self.captured_parts = 0
        self.released_parts = 0
        self.returned = 0
        self.settled = bytearray((count + 7) // 8)
        self.closed = False

    # -- reading ---------------------------------------------------------------------------

    @property
    def remaining(self) -> int:
        return self.amount - self.captured - self.released - self.returned

    @property
    def settled_count(self) -> int:
        """How many messages were captured or released."""
        return sum(byte.bit_count() for byte in self.settled)

    def is_settled(self, index: int) -> bool:
        return bool(self.settled[index >> 3] & (1 << (index & 7)))

    def message_id(self, index: int) -> UUID:
        return message_id(self.send_id, index)

    def _new_items(
        self, indexes: Sequence[int], amounts: Sequence[int], parts: Sequence[int]
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        if self.closed:
            raise ReservationClosedError(self.id)
        if not len(indexes) == len(amounts) == len(parts):
            raise InvalidAmountError("indexes, amounts and parts must be equally long")
        seen: set[int] = set()
        keep: list[int] = []
        for position, index in enumerate(indexes):
            if not 0 <= index < self.count:
                raise UnknownMessageIndexError(index, self.count)
            if amounts[position] < 0 or parts[position] < 0:
                raise InvalidAmountError(f"message {index}: negative amount or parts")
            if index in seen or self.is_settled(index):
                continue
            seen.add(index)
            keep.append(position)
        total = sum(amounts[p] for p in keep)
        if total > self.remaining:
            raise ReservationOverdrawnError(self.id, total, self.remaining)
        return (
            tuple(indexes[p] for p in keep),
            tuple(amounts[p] for p in keep),
            tuple(parts[p] for p in keep),
        )

    def _mark(self, indexes: Sequence[int]) -> None:
        for index in indexes:
            self.settled[index >> 3] |= 1 << (index & 7)

    def _consume(self, amount: int) -> Allocation:
        """Take ``amount`` out of the held lot shares, earliest first (held is kept in order)."""
        taken: list[LotShare] = []
        left = amount
        for share in self.held:
            if left == 0:
                break
            take = min(left, share.amount)
            taken.append(LotShare(share.lot_id, take))
            left -= take
        return tuple(taken)

    def _from_the_end(self, amount: int) -> Allocation:
        """Take ``amount`` from the latest-expiring held shares (what releases give back)."""
        taken: list[LotShare] = []
        left = amount
        for share in reversed(self.held):
            if left == 0:
                break
            take = min(left, share.amount)
            taken.append(LotShare(share.lot_id, take))
            left -= take
        return tuple(taken)

    def _drop(self, allocation: Allocation) -> None:
        shares = {s.lot_id: s.amount for s in self.held}
        for taken in allocation:
            shares[taken.lot_id] -= taken.amount
        self.held = tuple(
            LotShare(s.lot_id, shares[s.lot_id]) for s in self.held if shares[s.lot_id]
        )

    # -- capture ---------------------------------------------------------------------------

    class Captured(Aggregate.Event):
        indexes: tuple[int, ...]
        amounts: tuple[int, ...]
        parts: tuple[int, ...]
        total: int
        allocation: Allocation

    def capture(self, indexes: Sequence[int], amounts: Sequence[int], parts: Sequence[int]) -> int:
        """Charge the messages a carrier accepted; already-settled indexes are skipped.
        Returns the amount captured now."""
        new_indexes, new_amounts, new_parts = self._new_items(indexes, amounts, parts)
        if not new_indexes:
            return 0
        total = sum(new_amounts)
        allocation = self._consume(total) if self.billing is Billing.PREPAID else ()
        self._captured(new_indexes, new_amounts, new_parts, total, allocation)
        return total

    @event(Captured)
    def _captured(
        self,
        indexes: tuple[int, ...],
        amounts: tuple[int, ...],
        parts: tuple[int, ...],
        total: int,
        allocation: Allocation,
    ) -> None:
        self._mark(indexes)
        self.captured += total
        self.captured_parts += sum(parts)
        self._drop(allocation)

    # -- release ---------------------------------------------------------------------------

    class Released(Aggregate.Event):
        indexes: tuple[int, ...]
        amounts: tuple[int, ...]
        parts: tuple[int, ...]
        total: int
        allocation: Allocation
        reason: str

    def release(
        self, indexes: Sequence[int], amounts: Sequence[int], parts: Sequence[int], reason: str
    ) -> tuple[Allocation, int]:
        """Give back the price of messages that failed before a carrier accepted them.
        Returns what goes back to the wallet's lots and the parts given back."""
        new_indexes, new_amounts, new_parts = self._new_items(indexes, amounts, parts)
        if not new_indexes:
            return (), 0
        total = sum(new_amounts)
        allocation = self._from_the_end(total) if self.billing is Billing.PREPAID else ()
        self._released(new_indexes, new_amounts, new_parts, total, allocation, reason)
        return allocation, sum(new_parts)

    @event(Released)
    def _released(
        self,
        indexes: tuple[int, ...],
        amounts: tuple[int, ...],
        parts: tuple[int, ...],
        total: int,
        allocation: Allocation,
        reason: str,
    ) -> None:
        self._mark(indexes)
        self.released += total
        self.released_parts += sum(parts)
        self._drop(allocation)

    # -- close -----------------------------------------------------------------------------

    class Closed(Aggregate.Event):
        reason: str
        returned: int
        allocation: Allocation
        parts_returned: int

    def close(self, reason: str) -> tuple[Allocation, int]:
        """End the reservation and return what it still holds (idempotent)."""
        if self.closed:
            return (), 0
        unsent_parts = 0
        if self.billing is not Billing.PREPAID:
            unsent_parts = max(0, self.parts - self.captured_parts - self.released_parts)
        allocation = self.held if self.billing is Billing.PREPAID else ()
        self._closed(reason, self.remaining, allocation, unsent_parts)
        return allocation, unsent_parts

    @event(Closed)
    def _closed(
        self, reason: str, returned: int, allocation: Allocation, parts_returned: int
    ) -> None:
        self.closed = True
        self.returned = returned
        self.held = ()

    def is_expired(self, now: datetime) -> bool:
        return not self.closed and self.expires_at <= now
