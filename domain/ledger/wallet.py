"""Wallet: one per account, the credit it owns and what its sends may still use.

Invariants: a lot's remaining credit is never negative, so prepaid ``available`` never is; a
payment reference is credited once (a repeat is the same payment); at most one auto-recharge
request is pending. Expired lots are moved to expired credit (``LotExpired``) by the first
command that runs after their expiry, before it does anything else. Postpaid and small-volume
wallets hold no credit: they count SMS parts per Europe/Berlin day and month against limits.

Money held for a send leaves the wallet into a ``Reservation`` (``CreditHeld``) and what the
send did not use comes back (``CreditReturned``), to expired credit if its lot expired meanwhile.
Events are consumed by the journal and balance projections (projections/ledger_*.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.ledger.billing import Billing, UsageCounter
from domain.ledger.exceptions import (
    AdjustmentReferenceReusedError,
    CreditExpiresBeforeScheduleError,
    InsufficientCreditError,
    InvalidAmountError,
    InvalidAutoRechargeError,
    NoExpiredCreditError,
    PaymentReferenceReusedError,
)
from domain.ledger.lots import (
    Allocation,
    CreditLot,
    DebitKind,
    ExpiredOption,
    LotShare,
    LotSource,
    PaymentMethod,
    allocate,
    split_returned,
)
from domain.money import MAX_AMOUNT

WALLET_NAMESPACE = UUID("7d4f6b52-0f7e-4c59-9a55-2f0f3f1c2a01")


class Wallet(Aggregate):
    account_id: UUID
    billing: Billing
    lots: dict[UUID, CreditLot]
    remaining: dict[UUID, int]
    expired: int
    references: dict[str, UUID]
    debit_references: dict[str, int]
    """``kind:reference`` of every debit booked with a reference -> its amount (a repeated
    refund or correction is recognised; debits before snapshots kept this are not)."""
    usage: UsageCounter
    recharge_threshold: int | None
    recharge_package: int | None
    pending_recharge: UUID | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """Snapshots taken before wallets kept their debits' references."""
        state["debit_references"] = {}

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return uuid5(WALLET_NAMESPACE, str(account_id))

    class Opened(Aggregate.Created):
        account_id: UUID
        billing: Billing

    @event(Opened)
    def __init__(self, account_id: UUID, billing: Billing) -> None:
        self.account_id = account_id
        self.billing = billing
        self.lots = {}
        self.remaining = {}
        self.expired = 0
        self.references = {}
        self.debit_references = {}
        self.usage = UsageCounter()
        self.recharge_threshold = None
        self.recharge_package = None
        self.pending_recharge = None

    # -- reading ---------------------------------------------------------------------------

    @property
    def available(self) -> int:
        return sum(self.remaining.values())

    def available_at(self, now: datetime) -> int:
        return sum(v for k, v in self.remaining.items() if not self.lots[k].is_expired(now))

    def lot_for_reference(self, reference: str) -> UUID | None:
        return self.references.get(reference)

    # -- crediting -------------------------------------------------------------------------

    class CreditPurchased(Aggregate.Event):
        lot: CreditLot
        net: int
        vat: int
        gross: int
        method: PaymentMethod
        reference: str
        package: str
        actor: str
        """Who booked it (a staff user, the operator's key, a payment's notification)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Purchases booked before they named who booked them."""
            state["actor"] = ""

    def purchase(
        self,
        *,
        lot_id: UUID,
        net: int,
        vat: int,
        method: PaymentMethod,
        reference: str,
        package: str,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> UUID:
        """Credit a paid package or top-up; a repeated payment reference changes nothing."""
        existing = self.references.get(reference)
        if existing is not None:
            if self.lots[existing].amount != net:
                raise PaymentReferenceReusedError(reference, self.lots[existing].amount, net)
            return existing
        if net <= 0 or vat < 0 or net > MAX_AMOUNT or vat > MAX_AMOUNT:
            raise InvalidAmountError(
                f"a purchase needs 0 < net <= {MAX_AMOUNT} and VAT >= 0 (got {net}, {vat})"
            )
        self.expire_lots(now)
        lot = CreditLot(lot_id, LotSource.PURCHASE, net, now, expires_at)
        self._credit_purchased(lot, net, vat, net + vat, method, reference, package, actor)
        return lot_id

    @event(CreditPurchased)
    def _credit_purchased(
        self,
        lot: CreditLot,
        net: int,
        vat: int,
        gross: int,
        method: PaymentMethod,
        reference: str,
        package: str,
        actor: str,
    ) -> None:
        self._add_lot(lot)
        self.references[reference] = lot.lot_id
        if self.pending_recharge is not None and reference == str(self.pending_recharge):
            self.pending_recharge = None

    class CreditGranted(Aggregate.Event):
        lot: CreditLot
        reason: str
        actor: str

    def grant(
        self,
        *,
        lot_id: UUID,
        source: LotSource,
        amount: int,
        reason: str,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> None:
        """Trial credit, goodwill or a positive correction: credit nobody paid for."""
        if source not in (LotSource.TRIAL, LotSource.GOODWILL, LotSource.CORRECTION):
            raise InvalidAmountError(f"{source} credit is not granted")
        if not 0 < amount <= MAX_AMOUNT:
            raise InvalidAmountError(f"granted credit must be 1 to {MAX_AMOUNT} (got {amount})")
        self.expire_lots(now)
        self._credit_granted(CreditLot(lot_id, source, amount, now, expires_at), reason, actor)

    @event(CreditGranted)
    def _credit_granted(self, lot: CreditLot, reason: str, actor: str) -> None:
        self._add_lot(lot)

    def _add_lot(self, lot: CreditLot) -> None:
        self.lots[lot.lot_id] = lot
        self.remaining[lot.lot_id] = lot.amount

    # -- debiting --------------------------------------------------------------------------

    class CreditDebited(Aggregate.Event):
        """Credit leaves the wallet: a negative correction, or a refund paid out."""

        amount: int
        allocation: Allocation
        kind: str
        vat: int
        method: PaymentMethod | None
        reference: str
        reason: str
        actor: str

    def debit(
        self,
        *,
        amount: int,
        kind: DebitKind,
        reason: str,
        actor: str,
        now: datetime,
        vat: int = 0,
        method: PaymentMethod | None = None,
        reference: str = "",
    ) -> bool:
        """Take credit out: a refund (money paid back) or a correction. False when a debit of
        this kind and ``reference`` was booked before (nothing is booked again;
        ``AdjustmentReferenceReusedError`` if its amount was another)."""
        booked = self.debit_references.get(f"{kind}:{reference}") if reference else None
        if booked is not None:
            if booked != amount:
                raise AdjustmentReferenceReusedError(reference, booked, amount)
            return False
        if not 0 < amount <= MAX_AMOUNT or not 0 <= vat <= MAX_AMOUNT:
            raise InvalidAmountError(f"a debit needs an amount of 1 to {MAX_AMOUNT} (got {amount})")
        self.expire_lots(now)
        if amount > self.available:
            raise InsufficientCreditError(amount, self.available)
        allocation = allocate(amount, self.remaining, self.lots)
        self._credit_debited(amount, allocation, kind, vat, method, reference, reason, actor)
        return True

    @event(CreditDebited)
    def _credit_debited(
        self,
        amount: int,
        allocation: Allocation,
        kind: str,
        vat: int,
        method: PaymentMethod | None,
        reference: str,
        reason: str,
        actor: str,
    ) -> None:
        self._take(allocation)
        if reference:
            self.debit_references[f"{kind}:{reference}"] = amount

    def _take(self, allocation: Allocation) -> None:
        for share in allocation:
            self.remaining[share.lot_id] -= share.amount
            if self.remaining[share.lot_id] == 0:
                del self.remaining[share.lot_id]

    # -- holds for sends -------------------------------------------------------------------

    class CreditHeld(Aggregate.Event):
        reservation_id: UUID
        amount: int
        parts: int
        allocation: Allocation
        day: date
        month: str

    def hold(
        self,
        *,
        reservation_id: UUID,
        amount: int,
        parts: int,
        now: datetime,
        daily_limit: int | None,
        monthly_limit: int | None,
        valid_until: datetime | None = None,
    ) -> Allocation:
        """Move a send's expected cost out of available credit (prepaid), or count its parts
        against the daily and monthly limits (postpaid, small-volume). A scheduled send's
        credit (``valid_until``: its time) comes only from lots still valid then
        (``CreditExpiresBeforeScheduleError`` when those do not cover it)."""
        if amount < 0 or parts <= 0:
            raise InvalidAmountError(f"a hold needs parts > 0 and amount >= 0 ({parts}, {amount})")
        self.expire_lots(now)
        day, month = UsageCounter.period_of(now)
        if self.billing is Billing.PREPAID:
            if amount > self.available:
                raise InsufficientCreditError(amount, self.available)
            usable = self.remaining
            if valid_until is not None:
                usable = {
                    lot_id: left
                    for lot_id, left in self.remaining.items()
                    if not self.lots[lot_id].is_expired(valid_until)
                }
                if amount > sum(usable.values()):
                    raise CreditExpiresBeforeScheduleError(
                        valid_until, amount, sum(usable.values())
                    )
            allocation = allocate(amount, usable, self.lots)
        else:
            self.usage.check(day, month, parts, daily_limit, monthly_limit)
            allocation = ()
        self._credit_held(reservation_id, amount, parts, allocation, day, month)
        return allocation

    @event(CreditHeld)
    def _credit_held(
        self,
        reservation_id: UUID,
        amount: int,
        parts: int,
        allocation: Allocation,
        day: date,
        month: str,
    ) -> None:
        self._take(allocation)
        self.usage = self.usage.add(day, month, parts)

    class CreditReturned(Aggregate.Event):
        reservation_id: UUID
        allocation: Allocation
        expired_amount: int
        parts: int
        day: date
        month: str

    def give_back(
        self,
        *,
        reservation_id: UUID,
        allocation: Allocation,
        parts: int,
        day: date,
        month: str,
        now: datetime,
    ) -> None:
        """Return what a send did not use: to its lots, or to expired credit if they expired."""
        self.expire_lots(now)
        valid, expired_amount = split_returned(allocation, self.lots, now)
        if not valid and not expired_amount and not parts:
            return
        self._credit_returned(reservation_id, valid, expired_amount, parts, day, month)

    @event(CreditReturned)
    def _credit_returned(
        self,
        reservation_id: UUID,
        allocation: Allocation,
        expired_amount: int,
        parts: int,
        day: date,
        month: str,
    ) -> None:
        for share in allocation:
            self.remaining[share.lot_id] = self.remaining.get(share.lot_id, 0) + share.amount
        self.expired += expired_amount
        self.usage = self.usage.add(day, month, -parts)

    # -- expiry ----------------------------------------------------------------------------

    class LotExpired(Aggregate.Event):
        lot_id: UUID
        amount: int

    def expire_lots(self, now: datetime) -> int:
        """Move the remainder of every lot past its expiry to expired credit."""
        moved = 0
        for lot_id in sorted(self.remaining, key=str):
            if self.lots[lot_id].is_expired(now):
                amount = self.remaining[lot_id]
                self._lot_expired(lot_id, amount)
                moved += amount
        return moved

    @event(LotExpired)
    def _lot_expired(self, lot_id: UUID, amount: int) -> None:
        del self.remaining[lot_id]
        self.expired += amount

    class ExpiredCreditSettled(Aggregate.Event):
        """The customer's choice for expired credit: ``reactivate`` it against a base fee (the
        rest becomes a new lot) or ``offset`` it against a usage fee (it all becomes a fee)."""

        option: str
        amount: int
        fee: int
        lot: CreditLot | None
        actor: str

    def settle_expired(
        self,
        *,
        option: ExpiredOption,
        fee: int,
        lot_id: UUID,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> None:
        self.expire_lots(now)
        if self.expired <= 0:
            raise NoExpiredCreditError("there is no expired credit to settle")
        amount = self.expired
        if ExpiredOption(option) is ExpiredOption.REACTIVATE:
            if not 0 <= fee < amount:
                raise InvalidAmountError(f"base fee {fee} must be below the expired {amount}")
            lot = CreditLot(lot_id, LotSource.REACTIVATION, amount - fee, now, expires_at)
            self._expired_credit_settled(option, amount, fee, lot, actor)
        else:
            self._expired_credit_settled(option, amount, amount, None, actor)

    @event(ExpiredCreditSettled)
    def _expired_credit_settled(
        self, option: str, amount: int, fee: int, lot: CreditLot | None, actor: str
    ) -> None:
        self.expired -= amount
        if lot is not None:
            self._add_lot(lot)

    # -- auto-recharge and billing ---------------------------------------------------------

    class AutoRechargeConfigured(Aggregate.Event):
        threshold: int | None
        package_net: int | None

    def configure_auto_recharge(self, threshold: int | None, package_net: int | None) -> None:
        """Recharge ``package_net`` when available credit falls below ``threshold`` (both, or
        neither to switch it off)."""
        if (threshold is None) != (package_net is None) or any(
            v is not None and v <= 0 for v in (threshold, package_net)
        ):
            raise InvalidAutoRechargeError(
                "give both a positive threshold and package_net, or neither"
            )
        self._auto_recharge_configured(threshold, package_net)

    @event(AutoRechargeConfigured)
    def _auto_recharge_configured(self, threshold: int | None, package_net: int | None) -> None:
        self.recharge_threshold = threshold
        self.recharge_package = package_net

    class RechargeRequested(Aggregate.Event):
        request_id: UUID
        package_net: int
        available: int

    def request_recharge_if_low(self, request_id: UUID, now: datetime) -> UUID | None:
        """Record a recharge request when available credit fell below the threshold; the
        payment that answers it carries the request id as its reference."""
        if self.recharge_threshold is None or self.recharge_package is None:
            return None
        if self.available_at(now) >= self.recharge_threshold:
            return None
        if self.pending_recharge is not None:
            return None  # never a second request while one is pending
        self._recharge_requested(request_id, self.recharge_package, self.available_at(now))
        return request_id

    @event(RechargeRequested)
    def _recharge_requested(self, request_id: UUID, package_net: int, available: int) -> None:
        self.pending_recharge = request_id

    class RechargeFailed(Aggregate.Event):
        request_id: UUID
        reason: str

    @event(RechargeFailed)
    def _recharge_failed(self, request_id: UUID, reason: str) -> None:
        self.pending_recharge = None

    def fail_recharge(self, request_id: UUID, reason: str) -> None:
        if self.pending_recharge == request_id:
            self._recharge_failed(request_id, reason)

    class BillingChanged(Aggregate.Event):
        billing: Billing

    @event(BillingChanged)
    def _billing_changed(self, billing: Billing) -> None:
        self.billing = billing

    def change_billing(self, billing: Billing) -> None:
        if billing is not self.billing:
            self._billing_changed(billing)


__all__ = ["LotShare", "Wallet"]
