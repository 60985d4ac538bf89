"""Top-ups and adjustments: each kind's rule, on the ledger in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from domain.accounts.account import AccountKind
from domain.ledger.exceptions import (
    AdjustmentReferenceReusedError,
    InsufficientCreditError,
    InvalidAdjustmentError,
    ReservationNotFoundError,
)
from domain.ledger.lots import ExpiredOption, PaymentMethod
from domain.ledger.reservation import reservation_id_for
from domain.ledger.wallet import Wallet
from domain.tariff import Tariff
from services.adjustments import (
    CloseReservation,
    Correction,
    Credits,
    Goodwill,
    Refund,
    Release,
    SettleExpired,
    kind_of,
)
from services.registration import NewApiKey, RegistrationForm, Registrations, Trial
from tests.fakes.apps import MemoryApps, memory_apps

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TRIAL = 10_000


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


@pytest.fixture
def credits(apps: MemoryApps) -> Credits:
    return Credits(apps.accounts, apps.ledger, package_validity_months=6)


def customer(apps: MemoryApps, username: str = "anna") -> UUID:
    registrations = Registrations(apps.accounts, apps.ledger, Trial(TRIAL, timedelta(days=90)))
    form = RegistrationForm(AccountKind.PERSON, "Anna", f"{username}@example.de", username, None,
                            Tariff.QUALITY)  # fmt: skip
    return registrations.register(form, NewApiKey("kt", username, "d"), NOW).account_id


def available(apps: MemoryApps, account: UUID) -> int:
    return apps.ledger.wallet(account).available_at(NOW)


def test_a_topup_books_net_credit_with_vat_valid_six_months(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    topup = credits.topup(account, net=100_000, method=PaymentMethod.PAYPAL, reference="P-1",
                          package="SMS 1000", actor="user:x", now=NOW)  # fmt: skip
    assert (topup.net, topup.vat, topup.gross, topup.repeated) == (100_000, 19_000, 119_000, False)
    # The same Berlin wall time (10:00) six months later: 09:00 UTC in winter, 08:00 in summer.
    assert topup.expires_at == datetime(2026, 9, 2, 8, 0, tzinfo=UTC)
    again = credits.topup(account, net=100_000, method=PaymentMethod.PAYPAL, reference="P-1",
                          package="SMS 1000", actor="user:x", now=NOW)  # fmt: skip
    assert again.repeated
    assert again.lot_id == topup.lot_id
    assert available(apps, account) == TRIAL + 100_000


def test_goodwill_and_a_positive_correction_grant_credit(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    assert credits.adjust(account, Goodwill(5_000, "sorry"), "admin:k", NOW).amount == 5_000
    assert credits.adjust(account, Correction(2_000, "typo", "C-1"), "admin:k", NOW).amount == 2_000
    assert available(apps, account) == TRIAL + 7_000


def test_a_goodwill_repeated_with_its_reference_is_granted_once_and_says_so(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    first = credits.adjust(account, Goodwill(5_000, "sorry", "G-1"), "admin:k", NOW)
    again = credits.adjust(account, Goodwill(5_000, "sorry", "G-1"), "admin:k", NOW)
    assert (first.repeated, again.repeated) == (False, True)
    assert available(apps, account) == TRIAL + 5_000
    with pytest.raises(AdjustmentReferenceReusedError) as refused:
        credits.adjust(account, Goodwill(6_000, "sorry", "G-1"), "admin:k", NOW)
    assert (refused.value.recorded, refused.value.requested) == (5_000, 6_000)
    assert available(apps, account) == TRIAL + 5_000


def test_a_refund_or_correction_repeated_with_its_reference_is_booked_once(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    refund = Refund(3_000, "contract end", "R-1", PaymentMethod.SOFORT)
    assert not credits.adjust(account, refund, "admin:k", NOW).repeated
    assert credits.adjust(account, refund, "admin:k", NOW).repeated
    correction = Correction(-1_000, "double booking", "C-9")
    assert not credits.adjust(account, correction, "admin:k", NOW).repeated
    assert credits.adjust(account, correction, "admin:k", NOW).repeated
    assert available(apps, account) == TRIAL - 4_000
    with pytest.raises(AdjustmentReferenceReusedError):
        credits.adjust(account, Refund(2_000, "contract end", "R-1"), "admin:k", NOW)
    assert credits.adjust(account, Refund(1_000, "another", "R-2"), "admin:k", NOW).amount == -1_000
    replayed: Wallet = apps.ledger.repository.get(apps.ledger.wallet(account).id)  # replayed
    assert replayed.debit_references == {"refund:R-1": 3_000, "correction:C-9": 1_000,
                                         "refund:R-2": 1_000}  # fmt: skip


def test_a_negative_correction_and_a_refund_take_credit_out(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    assert (
        credits.adjust(account, Correction(-1_000, "double booking"), "admin:k", NOW).amount
        == -1_000
    )
    refund = Refund(3_000, "contract end", "R-1", PaymentMethod.SOFORT)
    assert credits.adjust(account, refund, "admin:k", NOW).amount == -3_000
    assert available(apps, account) == TRIAL - 4_000


@pytest.mark.parametrize(
    "adjustment",
    [Goodwill(0, "zero"), Goodwill(-5, "negative"), Correction(0, "zero"), Refund(0, "zero")],
)
def test_an_amount_that_does_not_fit_its_kind_is_refused(
    apps: MemoryApps, credits: Credits, adjustment: Goodwill | Correction | Refund
) -> None:
    account = customer(apps)
    with pytest.raises(InvalidAdjustmentError):
        credits.adjust(account, adjustment, "admin:k", NOW)
    assert available(apps, account) == TRIAL


def test_a_refund_beyond_the_credit_is_refused(apps: MemoryApps, credits: Credits) -> None:
    account = customer(apps)
    with pytest.raises(InsufficientCreditError):
        credits.adjust(account, Refund(TRIAL + 1, "too much"), "admin:k", NOW)


def hold(apps: MemoryApps, account: UUID, amount: int, count: int) -> UUID:
    send_id = uuid4()
    apps.ledger.reserve(account, send_id=send_id, amount=amount, parts=count, count=count,
                        now=NOW, expires_at=NOW + timedelta(hours=72))  # fmt: skip
    return reservation_id_for(send_id)


def test_a_release_and_a_close_give_held_credit_back(apps: MemoryApps, credits: Credits) -> None:
    account = customer(apps)
    reservation = hold(apps, account, 790 * 3, 3)
    release = Release(reservation, (0,), (790,), (), "carrier outage")
    assert credits.adjust(account, release, "admin:k", NOW).amount == 790
    assert (
        credits.adjust(account, CloseReservation(reservation, "done"), "admin:k", NOW).amount
        == 1_580
    )
    assert available(apps, account) == TRIAL


def test_another_accounts_reservation_is_answered_like_an_unknown_one(
    apps: MemoryApps, credits: Credits
) -> None:
    owner, other = customer(apps, "owner"), customer(apps, "other")
    reservation = hold(apps, owner, 790, 1)
    for reservation_id in (reservation, uuid4()):
        with pytest.raises(ReservationNotFoundError):
            credits.adjust(other, CloseReservation(reservation_id, "x"), "admin:k", NOW)
    assert not apps.ledger.reservation(reservation).closed


def test_expired_credit_is_reactivated_for_a_fee(apps: MemoryApps, credits: Credits) -> None:
    account = customer(apps)
    later = NOW + timedelta(days=91)  # the trial has expired
    apps.ledger.expire_lots(account, later)
    settled = SettleExpired(ExpiredOption.REACTIVATE, 1_000, "customer chose a base fee")
    assert credits.adjust(account, settled, "admin:k", later).amount == TRIAL
    assert apps.ledger.wallet(account).available_at(later) == TRIAL - 1_000


def test_an_adjustments_kind_is_its_name_on_the_wire() -> None:
    assert [
        kind_of(a)
        for a in (
            Goodwill(1, "r"),
            Correction(1, "r"),
            Refund(1, "r"),
            Release(uuid4(), (), (), (), "r"),
            CloseReservation(uuid4(), "r"),
            SettleExpired(ExpiredOption.REACTIVATE, 0, "r"),
            SettleExpired(ExpiredOption.OFFSET, 0, "r"),
        )
    ] == [
        "goodwill",
        "correction",
        "refund",
        "release",
        "close_reservation",
        "expired_reactivate",
        "expired_offset",
    ]


def test_a_wallet_snapshot_taken_before_debit_references_still_loads(apps: MemoryApps) -> None:
    account = customer(apps)
    wallet_id = Wallet.create_id(account)
    apps.ledger.take_snapshot(wallet_id)
    snapshots: Any = apps.ledger.snapshots
    (snapshot,) = snapshots.get(wallet_id)
    stored = apps.ledger.mapper.to_stored_event(snapshot)
    body = json.loads(stored.state)
    assert body["state"].pop("class_version") == 2
    del body["state"]["debit_references"]  # what a snapshot of the earlier release holds
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      json.dumps(body).encode())  # fmt: skip
    decoded: Any = apps.ledger.mapper.to_domain_event(old)
    wallet = decoded.mutate(None)
    assert wallet.debit_references == {}
    assert wallet.available == TRIAL


def test_a_purchase_booked_before_purchases_named_their_actor_still_loads(
    apps: MemoryApps, credits: Credits
) -> None:
    account = customer(apps)
    credits.topup(account, net=100_000, method=PaymentMethod.PAYPAL, reference="P-old",
                  package="SMS 1000", actor="admin:k1", now=NOW)  # fmt: skip
    (purchase,) = [
        e for e in apps.ledger.repository.event_store.get(Wallet.create_id(account))
        if isinstance(e, Wallet.CreditPurchased)
    ]  # fmt: skip
    assert purchase.actor == "admin:k1"
    stored = apps.ledger.mapper.to_stored_event(purchase)
    body = json.loads(stored.state)
    assert body.pop("class_version") == 2
    del body["actor"]  # what the earlier release stored
    old = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                      json.dumps(body).encode())  # fmt: skip
    decoded: Any = apps.ledger.mapper.to_domain_event(old)
    assert decoded.actor == ""
    assert decoded.net == 100_000
