"""Random sequences of everything money does, and the ledger's invariants after every step:
postings balance, the per-account identity holds, prepaid credit is never negative, replaying the
stored events gives the live aggregates, and read-side figures agree with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    rule,
)

from adapters.postgres.eventstore import event_store_env
from domain.ledger.application import Ledger
from domain.ledger.billing import Billing
from domain.ledger.exceptions import (
    InsufficientCreditError,
    InvalidAutoRechargeError,
    NoExpiredCreditError,
    SendLimitExceededError,
)
from domain.ledger.lots import DebitKind, ExpiredOption, LotSource, PaymentMethod
from tests.support.ledger_model import check_ledger

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
amounts = st.integers(min_value=1, max_value=50_000)


class LedgerMachine(RuleBasedStateMachine):
    accounts = Bundle("accounts")
    reservations = Bundle("reservations")

    def __init__(self) -> None:
        super().__init__()
        self.app = Ledger(env=event_store_env(None, IS_SNAPSHOTTING_ENABLED="y"))
        self.now = START
        self.account_ids: list[UUID] = []
        self.reservation_ids: list[UUID] = []

    @initialize(target=accounts)
    def first_account(self) -> UUID:
        return self._open(Billing.PREPAID, 10_000)

    def _open(self, billing: Billing, trial: int) -> UUID:
        account_id = uuid4()
        self.app.open_wallet(account_id, billing)
        if trial:
            self.app.grant(
                account_id,
                source=LotSource.TRIAL,
                amount=trial,
                reference="trial",
                reason="trial",
                actor="system",
                now=self.now,
                expires_at=self.now + timedelta(days=30),
            )
        self.account_ids.append(account_id)
        return account_id

    @rule(target=accounts, billing=st.sampled_from(list(Billing)), trial=st.integers(0, 20_000))
    def register(self, billing: Billing, trial: int) -> UUID:
        return self._open(billing, trial if billing is Billing.PREPAID else 0)

    @rule(account=accounts, net=amounts, reference=st.sampled_from(["A", "B", "C", "D"]))
    def purchase(self, account: UUID, net: int, reference: str) -> None:
        wallet = self.app.wallet(account)
        existing = wallet.lot_for_reference(reference)
        if existing is not None:
            net = wallet.lots[existing].amount  # a repeated payment has the same amount
        lot_id = self.app.purchase(
            account,
            net=net,
            vat=net * 19 // 100,
            method=PaymentMethod.SEPA_DIRECT_DEBIT,
            reference=reference,
            package="pkg",
            actor="admin:test",
            now=self.now,
            expires_at=self.now + timedelta(days=180),
        )
        assert lot_id == self.app.wallet(account).lot_for_reference(reference)
        if existing is not None:
            assert lot_id == existing

    @rule(
        target=reservations,
        account=accounts,
        count=st.integers(1, 30),
        price=st.integers(0, 2_000),
    )
    def reserve(self, account: UUID, count: int, price: int) -> UUID | None:
        try:
            reservation = self.app.reserve(
                account,
                send_id=uuid4(),
                amount=count * price,
                parts=count,
                count=count,
                now=self.now,
                expires_at=self.now + timedelta(hours=72),
                daily_limit=200,
                monthly_limit=1_000,
            )
        except (InsufficientCreditError, SendLimitExceededError):
            return None
        self.reservation_ids.append(reservation)
        return reservation

    def _items(self, reservation_id: UUID, data: st.DataObject) -> tuple[list[int], list[int]]:
        reservation = self.app.reservation(reservation_id)
        indexes = data.draw(st.lists(st.integers(0, reservation.count - 1), max_size=12))
        price = reservation.amount // reservation.count
        return indexes, [price] * len(indexes)

    @rule(reservation=reservations, data=st.data())
    def capture(self, reservation: UUID | None, data: st.DataObject) -> None:
        if reservation is None or self.app.reservation(reservation).closed:
            return
        indexes, prices = self._items(reservation, data)
        before = self.app.reservation(reservation).captured
        charged = self.app.capture(reservation, indexes, prices, [1] * len(indexes))
        again = self.app.capture(reservation, indexes, prices, [1] * len(indexes))
        assert again == 0  # capturing the same messages twice has no effect
        assert self.app.reservation(reservation).captured == before + charged

    @rule(reservation=reservations, data=st.data())
    def release(self, reservation: UUID | None, data: st.DataObject) -> None:
        if reservation is None or self.app.reservation(reservation).closed:
            return
        indexes, prices = self._items(reservation, data)
        self.app.release(
            reservation, indexes, prices, [1] * len(indexes), reason="rejected", now=self.now
        )

    @rule(reservation=consumes(reservations))
    def close(self, reservation: UUID | None) -> None:
        if reservation is None:
            return
        remaining = self.app.reservation(reservation).remaining
        closed = self.app.reservation(reservation).closed
        returned = self.app.close_reservation(reservation, reason="complete", now=self.now)
        assert returned == (0 if closed else remaining)
        assert self.app.reservation(reservation).remaining == 0

    @rule(days=st.integers(1, 120))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule(account=accounts)
    def expire_lots(self, account: UUID) -> None:
        self.app.expire_lots(account, self.now)
        wallet = self.app.wallet(account)
        assert not any(wallet.lots[lot].is_expired(self.now) for lot in wallet.remaining)

    @rule(account=accounts, amount=amounts, kind=st.sampled_from(["goodwill", "correction"]))
    def grant(self, account: UUID, amount: int, kind: str) -> None:
        source = LotSource.GOODWILL if kind == "goodwill" else LotSource.CORRECTION
        self.app.grant(
            account,
            source=source,
            amount=amount,
            reference=str(uuid4()),
            reason="support",
            actor="admin:test",
            now=self.now,
            expires_at=None,
        )

    @rule(account=accounts, amount=amounts, kind=st.sampled_from(DebitKind))
    def debit(self, account: UUID, amount: int, kind: DebitKind) -> None:
        before = self.app.wallet(account)
        try:
            self.app.debit(
                account,
                amount=amount,
                kind=kind,
                reason="support",
                actor="admin:test",
                now=self.now,
                vat=amount * 19 // 100,
                method=PaymentMethod.BANK_TRANSFER,
            )
        except InsufficientCreditError as exc:
            assert exc.required > before.available_at(self.now)

    @rule(account=accounts, option=st.sampled_from(ExpiredOption), fee=st.integers(0, 500))
    def settle_expired(self, account: UUID, option: ExpiredOption, fee: int) -> None:
        try:
            self.app.settle_expired(
                account,
                option=option,
                fee=fee,
                actor="admin:test",
                now=self.now,
                expires_at=self.now + timedelta(days=180),
                reference=str(uuid4()),
            )
        except NoExpiredCreditError:
            assert self.app.wallet(account).expired == 0
        except Exception as exc:  # noqa: BLE001 - a fee above the expired amount is refused
            assert "base fee" in str(exc)

    @invariant()
    def ledger_is_consistent(self) -> None:
        check_ledger(self.app, self.account_ids, self.reservation_ids)


TestLedgerProperties = LedgerMachine.TestCase


@pytest.mark.parametrize(
    ("threshold", "package_net"), [(1_000, None), (None, 50_000), (0, 50_000), (1_000, -1)]
)
def test_auto_recharge_needs_both_a_positive_threshold_and_package_or_neither(
    threshold: int | None, package_net: int | None
) -> None:
    app = Ledger(env=event_store_env(None))
    account = uuid4()
    app.open_wallet(account, Billing.PREPAID)
    with pytest.raises(InvalidAutoRechargeError):
        app.configure_auto_recharge(account, threshold, package_net)
    app.configure_auto_recharge(account, None, None)  # off is always fine
    assert app.wallet(account).recharge_threshold is None
