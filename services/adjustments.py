"""Credit an operator (or finance) puts on or takes off an account: paid top-ups and the
adjustments (goodwill, corrections, refunds, releases, closing a reservation, settling expired
credit).

An adjustment is one of a closed set of kinds, each with the fields it needs (a tagged union,
``Adjustment``); the rules that tie a kind to its amount live here, the postings in the ledger.
Purchased and granted credit is valid ``package_validity_months`` from the day it is booked
(Europe/Berlin); amounts are net, VAT is added at the German rate where money moves (top-ups,
refunds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.accounts.application import Accounts
from domain.accounts.contract import add_months
from domain.ledger.application import Ledger, lot_id_for
from domain.ledger.billing import BERLIN
from domain.ledger.exceptions import InvalidAdjustmentError, ReservationNotFoundError
from domain.ledger.lots import DebitKind, ExpiredOption, LotSource, PaymentMethod
from domain.money import vat_on


@dataclass(frozen=True)
class Goodwill:
    """Credit given as a gesture (positive)."""

    amount: int
    reason: str
    reference: str = ""


@dataclass(frozen=True)
class Correction:
    """A booking error put right: positive credits, negative debits."""

    amount: int
    reason: str
    reference: str = ""


@dataclass(frozen=True)
class Refund:
    """Money paid back to the customer (positive), with VAT."""

    amount: int
    reason: str
    reference: str = ""
    method: PaymentMethod = PaymentMethod.BANK_TRANSFER


@dataclass(frozen=True)
class Release:
    """Give back the price of a reservation's messages that failed before carrier acceptance."""

    reservation_id: UUID
    indexes: tuple[int, ...]
    amounts: tuple[int, ...]
    parts: tuple[int, ...]
    """Per message; empty: one part each."""
    reason: str


@dataclass(frozen=True)
class CloseReservation:
    reservation_id: UUID
    reason: str


@dataclass(frozen=True)
class SettleExpired:
    """Expired credit reactivated (for a fee) or offset."""

    option: ExpiredOption
    fee: int
    reason: str
    reference: str = ""


Adjustment = Goodwill | Correction | Refund | Release | CloseReservation | SettleExpired


@dataclass(frozen=True)
class Topup:
    lot_id: UUID
    net: int
    vat: int
    gross: int
    expires_at: datetime | None
    repeated: bool
    """The payment reference was credited before: nothing new was booked."""


@dataclass(frozen=True)
class Adjusted:
    amount: int
    """What it moved for the account (positive: credit given; negative: taken; for expired
    credit: the expired amount settled)."""
    repeated: bool = False
    """Its reference was booked before (goodwill, correction, refund): nothing new was."""


class Credits:
    def __init__(self, accounts: Accounts, ledger: Ledger, *, package_validity_months: int):
        self.accounts = accounts
        self.ledger = ledger
        self.package_validity_months = package_validity_months

    def package_expiry(self, now: datetime) -> datetime:
        """When credit booked ``now`` expires: the same local time, so many months later."""
        local = now.astimezone(BERLIN)
        months = self.package_validity_months
        return datetime.combine(add_months(local.date(), months), local.timetz())

    def topup(
        self,
        account_id: UUID,
        *,
        net: int,
        method: PaymentMethod,
        reference: str,
        package: str,
        actor: str,
        now: datetime,
    ) -> Topup:
        """Credit a paid package (idempotent by payment reference); ``actor``: who booked it."""
        self.accounts.account(account_id)  # it must exist
        repeated = self.ledger.wallet(account_id).lot_for_reference(reference) is not None
        vat = vat_on(net)
        lot_id = self.ledger.purchase(
            account_id,
            net=net,
            vat=vat,
            method=method,
            reference=reference,
            package=package,
            actor=actor,
            now=now,
            expires_at=self.package_expiry(now),
        )
        lot = self.ledger.wallet(account_id).lots[lot_id]
        return Topup(lot_id, lot.amount, vat, lot.amount + vat, lot.expires_at, repeated)

    def adjust(
        self, account_id: UUID, adjustment: Adjustment, actor: str, now: datetime
    ) -> Adjusted:
        """Apply an adjustment. Goodwill, corrections and refunds are idempotent by their
        reference, as top-ups are by theirs: repeated, nothing is booked again (``repeated``);
        repeated with another amount, ``AdjustmentReferenceReusedError``."""
        self.accounts.account(account_id)  # it must exist
        return self._adjust(account_id, adjustment, actor, now)

    def _adjust(
        self, account_id: UUID, adjustment: Adjustment, actor: str, now: datetime
    ) -> Adjusted:
        reference = (
            getattr(adjustment, "reference", "") or f"{kind_of(adjustment)}:{now.isoformat()}"
        )
        match adjustment:
            case Goodwill(amount=amount) | Correction(amount=amount) if amount > 0:
                source = (
                    LotSource.GOODWILL if isinstance(adjustment, Goodwill) else LotSource.CORRECTION
                )
                granted_before = lot_id_for(account_id, f"{source}:{reference}")
                repeated = granted_before in self.ledger.wallet(account_id).lots
                self.ledger.grant(
                    account_id,
                    source=source,
                    amount=amount,
                    reference=reference,
                    reason=adjustment.reason,
                    actor=actor,
                    now=now,
                    expires_at=self.package_expiry(now),
                )
                return Adjusted(amount, repeated)
            case Correction(amount=amount) if amount < 0:
                debited = self.ledger.debit(
                    account_id,
                    amount=-amount,
                    kind=DebitKind.CORRECTION,
                    reason=adjustment.reason,
                    actor=actor,
                    now=now,
                    reference=reference,
                )
                return Adjusted(amount, not debited)
            case Refund(amount=amount, method=method) if amount > 0:
                debited = self.ledger.debit(
                    account_id,
                    amount=amount,
                    kind=DebitKind.REFUND,
                    reason=adjustment.reason,
                    actor=actor,
                    now=now,
                    vat=vat_on(amount),
                    method=method,
                    reference=reference,
                )
                return Adjusted(-amount, not debited)
            case Release():
                self._own_reservation(account_id, adjustment.reservation_id)
                parts = adjustment.parts or (1,) * len(adjustment.indexes)
                released = self.ledger.release(
                    adjustment.reservation_id,
                    adjustment.indexes,
                    adjustment.amounts,
                    parts,
                    reason=f"{adjustment.reason} ({actor})",
                    now=now,
                )
                return Adjusted(released)
            case CloseReservation():
                self._own_reservation(account_id, adjustment.reservation_id)
                closed = self.ledger.close_reservation(
                    adjustment.reservation_id, reason=f"{adjustment.reason} ({actor})", now=now
                )
                return Adjusted(closed)
            case SettleExpired():
                before = self.ledger.wallet(account_id).expired
                self.ledger.settle_expired(
                    account_id,
                    option=adjustment.option,
                    fee=adjustment.fee,
                    actor=actor,
                    now=now,
                    expires_at=self.package_expiry(now),
                    reference=reference,
                )
                return Adjusted(before)
        raise InvalidAdjustmentError(
            "goodwill and refund need a positive amount, correction a non-zero one"
        )

    def _own_reservation(self, account_id: UUID, reservation_id: UUID) -> None:
        """Another account's reservation is answered like an unknown one."""
        try:
            owner = self.ledger.reservation(reservation_id).account_id
        except AggregateNotFoundError as exc:
            raise ReservationNotFoundError(reservation_id) from exc
        if owner != account_id:
            raise ReservationNotFoundError(reservation_id)


def kind_of(adjustment: Adjustment) -> str:
    """The adjustment's name on the wire and in default references."""
    match adjustment:
        case SettleExpired(option=option):
            return f"expired_{option.value}"
        case CloseReservation():
            return "close_reservation"
        case _:
            return type(adjustment).__name__.lower()
