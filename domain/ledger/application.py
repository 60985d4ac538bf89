"""The Ledger application: load, call one domain method, save. Wallet and reservation change
together in one transaction where money moves between them.

Concurrent commands on the same wallet or reservation are serialised by optimistic concurrency:
the loser of a race reloads and tries again, so a hundred parallel reservations against one
balance can never overspend it. Every command takes ``now``; nothing here reads a clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, TypeVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from domain.base import KontorApplication
from domain.ledger.billing import Billing, UsageCounter
from domain.ledger.exceptions import (
    AdjustmentReferenceReusedError,
    LedgerError,
    ReservationMismatchError,
)
from domain.ledger.lots import DebitKind, ExpiredOption, LotSource, PaymentMethod
from domain.ledger.reservation import Reservation, reservation_id_for
from domain.ledger.wallet import Wallet

T = TypeVar("T")
LOT_NAMESPACE = UUID("a3e5f0c4-8d0b-4c39-a1a4-5b5d3e9c7b31")
MAX_ATTEMPTS = 200


def lot_id_for(account_id: UUID, reference: str) -> UUID:
    return uuid5(LOT_NAMESPACE, f"{account_id}:{reference}")


@dataclass(frozen=True)
class Hold:
    """One send's hold, as ``Ledger.reserve`` takes it."""

    send_id: UUID
    amount: int
    parts: int
    count: int
    now: datetime
    expires_at: datetime
    daily_limit: int | None = None
    monthly_limit: int | None = None
    valid_until: datetime | None = None
    new: bool = False
    """The send id was just made (no Idempotency-Key): no reservation can exist for it yet,
    so none is looked for (a round trip less per single send)."""


class Ledger(KontorApplication):
    snapshotting_intervals: ClassVar = {Wallet: 100, Reservation: 50}

    # -- helpers ---------------------------------------------------------------------------

    def _retry(self, attempt: Callable[[], T]) -> T:
        for _ in range(MAX_ATTEMPTS - 1):
            try:
                return attempt()
            except RecordConflictError:
                continue
        return attempt()

    def wallet(self, account_id: UUID) -> Wallet:
        wallet: Wallet = self.repository.get(Wallet.create_id(account_id))
        return wallet

    def reservation(self, reservation_id: UUID) -> Reservation:
        reservation: Reservation = self.repository.get(reservation_id)
        return reservation

    def has_wallet(self, account_id: UUID) -> bool:
        return Wallet.create_id(account_id) in self.repository

    # -- wallets ---------------------------------------------------------------------------

    def open_wallet(self, account_id: UUID, billing: Billing) -> UUID:
        """Open the account's wallet (idempotent)."""

        def attempt() -> UUID:
            try:
                return self.wallet(account_id).id
            except AggregateNotFoundError:
                wallet = Wallet(account_id=account_id, billing=billing)
                self.save(wallet)
                return wallet.id

        return self._retry(attempt)

    def change_billing(self, account_id: UUID, billing: Billing) -> None:
        def attempt() -> None:
            wallet = self.wallet(account_id)
            wallet.change_billing(billing)
            self.save(wallet)

        self._retry(attempt)

    def purchase(
        self,
        account_id: UUID,
        *,
        net: int,
        vat: int,
        method: PaymentMethod,
        reference: str,
        package: str,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> UUID:
        """Credit a paid package; idempotent by payment reference. Returns the lot id."""

        def attempt() -> UUID:
            wallet = self.wallet(account_id)
            lot_id = wallet.purchase(
                lot_id=lot_id_for(account_id, f"purchase:{reference}"),
                net=net,
                vat=vat,
                method=method,
                reference=reference,
                package=package,
                actor=actor,
                now=now,
                expires_at=expires_at,
            )
            self.save(wallet)
            return lot_id

        return self._retry(attempt)

    def grant(
        self,
        account_id: UUID,
        *,
        source: LotSource,
        amount: int,
        reference: str,
        reason: str,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> UUID:
        """Trial, goodwill or correction credit; idempotent by ``reference`` (the same reference
        with another amount: ``AdjustmentReferenceReusedError``)."""
        lot_id = lot_id_for(account_id, f"{source}:{reference}")

        def attempt() -> UUID:
            wallet = self.wallet(account_id)
            if lot_id in wallet.lots:
                if wallet.lots[lot_id].amount != amount:
                    raise AdjustmentReferenceReusedError(
                        reference, wallet.lots[lot_id].amount, amount
                    )
                return lot_id
            wallet.grant(
                lot_id=lot_id,
                source=source,
                amount=amount,
                reason=reason,
                actor=actor,
                now=now,
                expires_at=expires_at,
            )
            self.save(wallet)
            return lot_id

        return self._retry(attempt)

    def debit(
        self,
        account_id: UUID,
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
        """Debit the wallet; False when this kind and ``reference`` was debited before."""

        def attempt() -> bool:
            wallet = self.wallet(account_id)
            debited = wallet.debit(
                amount=amount,
                kind=kind,
                reason=reason,
                actor=actor,
                now=now,
                vat=vat,
                method=method,
                reference=reference,
            )
            if debited:
                self.save(wallet)
            return debited

        return self._retry(attempt)

    def expire_lots(self, account_id: UUID, now: datetime) -> int:
        def attempt() -> int:
            wallet = self.wallet(account_id)
            moved = wallet.expire_lots(now)
            self.save(wallet)
            return moved

        return self._retry(attempt)

    def settle_expired(
        self,
        account_id: UUID,
        *,
        option: ExpiredOption,
        fee: int,
        actor: str,
        now: datetime,
        expires_at: datetime | None,
        reference: str,
    ) -> None:
        def attempt() -> None:
            wallet = self.wallet(account_id)
            wallet.settle_expired(
                option=option,
                fee=fee,
                lot_id=lot_id_for(account_id, f"reactivation:{reference}"),
                actor=actor,
                now=now,
                expires_at=expires_at,
            )
            self.save(wallet)

        self._retry(attempt)

    def configure_auto_recharge(
        self, account_id: UUID, threshold: int | None, package_net: int | None
    ) -> None:
        def attempt() -> None:
            wallet = self.wallet(account_id)
            wallet.configure_auto_recharge(threshold, package_net)
            self.save(wallet)

        self._retry(attempt)

    def request_recharge_if_low(self, account_id: UUID, now: datetime) -> UUID | None:
        def attempt() -> UUID | None:
            wallet = self.wallet(account_id)
            request = wallet.request_recharge_if_low(
                uuid5(LOT_NAMESPACE, f"recharge:{account_id}:{wallet.version}"), now
            )
            if request is None:
                return None
            self.save(wallet)
            return request

        return self._retry(attempt)

    def fail_recharge(self, account_id: UUID, request_id: UUID, reason: str) -> None:
        def attempt() -> None:
            wallet = self.wallet(account_id)
            wallet.fail_recharge(request_id, reason)
            self.save(wallet)

        self._retry(attempt)

    # -- reservations ----------------------------------------------------------------------

    def reserve(
        self,
        account_id: UUID,
        *,
        send_id: UUID,
        amount: int,
        parts: int,
        count: int,
        now: datetime,
        expires_at: datetime,
        daily_limit: int | None = None,
        monthly_limit: int | None = None,
        valid_until: datetime | None = None,
    ) -> UUID:
        """Hold a send's expected cost (idempotent per send). Raises InsufficientCreditError or
        SendLimitExceededError, naming the shortfall, when the wallet cannot cover it, and
        CreditExpiresBeforeScheduleError when a scheduled send (``valid_until``: its time)
        would hold credit that expires before it goes."""
        hold = Hold(send_id, amount, parts, count, now, expires_at, daily_limit, monthly_limit,
                    valid_until)  # fmt: skip
        (result,) = self.reserve_many(account_id, [hold])
        if isinstance(result, Exception):
            raise result
        return result

    def reserve_many(self, account_id: UUID, holds: Sequence[Hold]) -> list[UUID | LedgerError]:
        """Hold several sends' costs on the account's wallet in one transaction (a group
        commit of concurrent sends: one load of the wallet, one save, instead of a race per
        send). Each hold is what ``reserve`` makes of it, in the given order: its
        reservation id, or the refusal ``reserve`` would raise (the others still hold)."""

        def attempt() -> list[UUID | LedgerError]:
            wallet = self.wallet(account_id)
            results: list[UUID | LedgerError] = []
            made: dict[UUID, Reservation] = {}
            for hold in holds:
                results.append(self._hold(wallet, hold, made))
            if made or wallet.pending_events:
                self.save(wallet, *made.values())
            return results

        return self._retry(attempt)

    def _hold(
        self, wallet: Wallet, hold: Hold, made: dict[UUID, Reservation]
    ) -> UUID | LedgerError:
        reservation_id = reservation_id_for(hold.send_id)
        existing = made.get(reservation_id)
        if existing is None and not hold.new:
            with contextlib.suppress(AggregateNotFoundError):
                existing = self.reservation(reservation_id)
        if existing is not None:
            if (existing.amount, existing.count) != (hold.amount, hold.count):
                return ReservationMismatchError(
                    f"send {hold.send_id} already holds {existing.amount} for {existing.count}"
                )
            return existing.id
        try:
            allocation = wallet.hold(
                reservation_id=reservation_id,
                amount=hold.amount,
                parts=hold.parts,
                now=hold.now,
                daily_limit=hold.daily_limit,
                monthly_limit=hold.monthly_limit,
                valid_until=hold.valid_until,
            )
        except LedgerError as refused:
            return refused
        wallet.request_recharge_if_low(uuid5(reservation_id, "recharge"), hold.now)
        day, month = UsageCounter.period_of(hold.now)
        made[reservation_id] = Reservation(
            account_id=wallet.account_id,
            wallet_id=wallet.id,
            send_id=hold.send_id,
            billing=wallet.billing,
            amount=hold.amount,
            parts=hold.parts,
            count=hold.count,
            allocation=allocation,
            expires_at=hold.expires_at,
            day=day,
            month=month,
        )
        return reservation_id

    def capture(
        self,
        reservation_id: UUID,
        indexes: Sequence[int],
        amounts: Sequence[int],
        parts: Sequence[int],
    ) -> int:
        """Charge carrier-accepted messages; repeats are ignored. Returns the amount charged."""

        def attempt() -> int:
            reservation = self.reservation(reservation_id)
            captured = reservation.capture(indexes, amounts, parts)
            if captured or reservation.pending_events:
                self.save(reservation)
            return captured

        return self._retry(attempt)

    def release(
        self,
        reservation_id: UUID,
        indexes: Sequence[int],
        amounts: Sequence[int],
        parts: Sequence[int],
        *,
        reason: str,
        now: datetime,
    ) -> int:
        """Give back the price of messages that failed before carrier acceptance."""

        def attempt() -> int:
            reservation = self.reservation(reservation_id)
            before = reservation.released
            allocation, released_parts = reservation.release(indexes, amounts, parts, reason)
            if not reservation.pending_events:
                return 0
            wallet: Wallet = self.repository.get(reservation.wallet_id)
            wallet.give_back(
                reservation_id=reservation.id,
                allocation=allocation,
                parts=released_parts,
                day=reservation.day,
                month=reservation.month,
                now=now,
            )
            self.save(reservation, wallet)
            return reservation.released - before

        return self._retry(attempt)

    def close_reservation(self, reservation_id: UUID, *, reason: str, now: datetime) -> int:
        """Close a reservation and return what it still holds (idempotent)."""

        def attempt() -> int:
            reservation = self.reservation(reservation_id)
            if reservation.closed:
                return 0
            remaining = reservation.remaining
            allocation, parts = reservation.close(reason)
            wallet: Wallet = self.repository.get(reservation.wallet_id)
            wallet.give_back(
                reservation_id=reservation.id,
                allocation=allocation,
                parts=parts,
                day=reservation.day,
                month=reservation.month,
                now=now,
            )
            self.save(reservation, wallet)
            return remaining

        return self._retry(attempt)

    def close_expired(self, reservation_ids: Sequence[UUID], now: datetime) -> list[UUID]:
        """The sweeper: close every given reservation whose expiry has passed."""
        closed = []
        for reservation_id in reservation_ids:
            if self.reservation(reservation_id).is_expired(now):
                self.close_reservation(reservation_id, reason="expired", now=now)
                closed.append(reservation_id)
        return closed

    def open_prepaid_wallet(
        self, account_id: UUID, *, trial_credit: int, trial_expires_at: datetime, now: datetime
    ) -> UUID:
        """A new customer's wallet with its trial credit (idempotent: safe to repeat)."""
        wallet_id = self.open_wallet(account_id, Billing.PREPAID)
        if trial_credit > 0:
            self.grant(
                account_id,
                source=LotSource.TRIAL,
                amount=trial_credit,
                reference="registration",
                reason="trial credit on registration",
                actor="system",
                now=now,
                expires_at=trial_expires_at,
            )
        return wallet_id
