"""Credit lots: every credit a wallet receives is a lot with its own expiry.

Consumption takes the earliest-expiring lot first (lots without expiry last, older before newer),
so customers never lose credit they could have used. An ``Allocation`` says how much of a hold,
return or debit came from (or goes back to) which lot; it travels in the events so that replay
never has to re-decide it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

FAR_FUTURE = datetime.max.replace(year=9999)


class LotSource(enum.StrEnum):
    PURCHASE = "purchase"
    TRIAL = "trial"
    GOODWILL = "goodwill"
    CORRECTION = "correction"
    REACTIVATION = "reactivation"


class DebitKind(enum.StrEnum):
    """Why credit is taken out of a wallet."""

    REFUND = "refund"
    """Money paid back to the customer."""
    CORRECTION = "correction"
    """A booking error put right."""


class ExpiredOption(enum.StrEnum):
    """What happens to expired credit an operator settles."""

    REACTIVATE = "reactivate"
    """Usable again, less a fee."""
    OFFSET = "offset"
    """Taken as revenue."""


class PaymentMethod(enum.StrEnum):
    BANK_TRANSFER = "bank_transfer"
    SEPA_DIRECT_DEBIT = "sepa_direct_debit"
    PAYPAL = "paypal"
    SOFORT = "sofort"
    INVOICE = "invoice"


@dataclass(frozen=True)
class CreditLot:
    lot_id: UUID
    source: LotSource
    amount: int
    acquired_at: datetime
    expires_at: datetime | None

    def sort_key(self) -> tuple[datetime, datetime, str]:
        expiry = self.expires_at.replace(tzinfo=None) if self.expires_at else FAR_FUTURE
        return (expiry, self.acquired_at.replace(tzinfo=None), str(self.lot_id))

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True)
class LotShare:
    lot_id: UUID
    amount: int


Allocation = tuple[LotShare, ...]


def allocate(
    amount: int, remaining: Mapping[UUID, int], lots: Mapping[UUID, CreditLot]
) -> Allocation:
    """Take ``amount`` from the lots, earliest expiry first. The caller checks sufficiency."""
    shares: list[LotShare] = []
    left = amount
    for lot in sorted((lots[i] for i in remaining if remaining[i] > 0), key=CreditLot.sort_key):
        if left == 0:
            break
        take = min(left, remaining[lot.lot_id])
        shares.append(LotShare(lot.lot_id, take))
        left -= take
    return tuple(shares)


def split_returned(
    allocation: Allocation, lots: Mapping[UUID, CreditLot], now: datetime
) -> tuple[Allocation, int]:
    """Split money going back to lots into what lands in valid lots and what has expired."""
    valid = tuple(s for s in allocation if not lots[s.lot_id].is_expired(now))
    expired = sum(s.amount for s in allocation if lots[s.lot_id].is_expired(now))
    return valid, expired
