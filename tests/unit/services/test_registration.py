"""Registration: account and wallet, and the repairs that finish a half-made one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from domain.accounts.account import Account, AccountKind
from domain.accounts.api_key import UsernameClaim
from domain.accounts.exceptions import RegistrationLimitError, UsernameTakenError
from domain.ledger.application import Ledger
from domain.tariff import Tariff
from services.registration import (
    REPAIR_AFTER,
    NewApiKey,
    RegistrationForm,
    Registrations,
    Trial,
)
from services.registration_limit import RegistrationLimit
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeRegistrationLog, FakeRegistrationSlots

TRIAL = Trial(10_000, timedelta(days=90))
KEYS = Keyring(os.urandom(32), MemoryKeyStore())
NOW = datetime.now(UTC)
"""The retry window is measured from the account's recording time, eventsourcing's clock."""
FORM = RegistrationForm(
    AccountKind.COMPANY, "Anna Müller", "anna@example.de", "baeckerei", "Bäckerei Müller GmbH",
    Tariff.QUALITY,
)  # fmt: skip


def key(n: int) -> NewApiKey:
    return NewApiKey(f"kt_secret{n}", f"prefix{n}", f"digest{n}")


class CrashingLedger:
    """The ledger of a process that dies right after the account was saved."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def has_wallet(self, account_id: object) -> bool:
        return False

    def open_prepaid_wallet(self, *args: object, **kwargs: object) -> None:
        raise ConnectionError("the process died here")


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


def crash_half_way(apps: MemoryApps) -> Account:
    """Register until the crash; the account as it was left."""
    crashing = Registrations(apps.accounts, CrashingLedger(apps.ledger), TRIAL)  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        crashing.register(FORM, key(1), NOW)
    claim: UsernameClaim = apps.accounts.repository.get(UsernameClaim.create_id(FORM.username))
    return apps.accounts.account(claim.account_id)


def test_a_registration_opens_the_wallet_with_the_trial_credit(apps: MemoryApps) -> None:
    registered = Registrations(apps.accounts, apps.ledger, TRIAL).register(FORM, key(1), NOW)
    wallet = apps.ledger.wallet(registered.account_id)
    assert wallet.available_at(NOW) == 10_000
    assert apps.accounts.api_key("prefix1").id == registered.api_key_id
    assert not registered.retried


def test_a_retry_finishes_a_registration_that_crashed_before_the_wallet(apps: MemoryApps) -> None:
    crash_half_way(apps)
    registrations = Registrations(apps.accounts, apps.ledger, TRIAL)
    retried = registrations.register(FORM, key(2), NOW + timedelta(seconds=5))
    assert retried.retried
    assert retried.api_key == "kt_secret2"
    assert apps.ledger.wallet(retried.account_id).available_at(NOW) == 10_000
    assert apps.accounts.api_key("prefix2").account_id == retried.account_id
    with pytest.raises(UsernameTakenError):  # finished now: never answered again
        registrations.register(FORM, key(3), NOW + timedelta(seconds=6))


def test_another_persons_registration_of_a_half_made_username_is_refused(apps: MemoryApps) -> None:
    crash_half_way(apps)
    stranger = RegistrationForm(AccountKind.PERSON, "Max Muster", "max@example.de", "baeckerei",
                                None, Tariff.QUALITY)  # fmt: skip
    with pytest.raises(UsernameTakenError):
        Registrations(apps.accounts, apps.ledger, TRIAL).register(stranger, key(2), NOW)


def test_a_retry_after_the_repair_window_is_told_the_username_is_taken(apps: MemoryApps) -> None:
    account = crash_half_way(apps)
    late = account.created_on + REPAIR_AFTER + timedelta(seconds=1)
    with pytest.raises(UsernameTakenError):
        Registrations(apps.accounts, apps.ledger, TRIAL).register(FORM, key(2), late)


def test_the_sweeper_opens_the_wallet_of_an_account_left_without_one(apps: MemoryApps) -> None:
    account_id = crash_half_way(apps).id
    log = FakeRegistrationLog()
    log.record(account_id, NOW)
    registrations = Registrations(apps.accounts, apps.ledger, TRIAL)
    assert registrations.repair_incomplete(log, NOW + timedelta(minutes=1)) == 0  # retry window
    assert log.position == 0
    assert registrations.repair_incomplete(log, NOW + REPAIR_AFTER + timedelta(minutes=1)) == 1
    wallet = apps.ledger.wallet(account_id)
    assert wallet.available_at(NOW) == 10_000
    assert wallet.lots[next(iter(wallet.lots))].expires_at == NOW + TRIAL.validity
    assert log.position == 1
    assert registrations.repair_incomplete(log, NOW + timedelta(days=1)) == 0  # looked at once


def test_the_repair_passes_over_complete_registrations(apps: MemoryApps) -> None:
    registrations = Registrations(apps.accounts, apps.ledger, TRIAL)
    registered = registrations.register(FORM, key(1), NOW)
    log = FakeRegistrationLog()
    log.record(registered.account_id, NOW)
    assert registrations.repair_incomplete(log, NOW + timedelta(hours=1)) == 0
    assert apps.ledger.wallet(registered.account_id).available_at(NOW) == 10_000  # granted once
    assert log.position == 1


def form(n: int) -> RegistrationForm:
    return RegistrationForm(AccountKind.PERSON, "Max Muster", f"max{n}@example.de", f"max{n}",
                            None, Tariff.QUALITY)  # fmt: skip


def test_an_address_past_its_hourly_limit_is_told_when_to_come_back(apps: MemoryApps) -> None:
    limit = RegistrationLimit(FakeRegistrationSlots(), per_hour=2, keys=KEYS)
    registrations = Registrations(apps.accounts, apps.ledger, TRIAL, limit)
    registrations.register(form(1), key(1), NOW, client="203.0.113.7")
    registrations.register(form(2), key(2), NOW + timedelta(minutes=20), client="203.0.113.7")
    with pytest.raises(RegistrationLimitError) as refused:
        registrations.register(form(3), key(3), NOW + timedelta(minutes=30), client="203.0.113.7")
    assert refused.value.retry_after == 30 * 60  # the first slot frees an hour after it
    registrations.register(form(4), key(4), NOW, client="198.51.100.1")  # another address
    later = NOW + timedelta(minutes=61)
    assert registrations.register(form(5), key(5), later, client="203.0.113.7").account_id


def test_a_registration_refused_for_its_form_gives_its_slot_back(apps: MemoryApps) -> None:
    slots = FakeRegistrationSlots()
    registrations = Registrations(
        apps.accounts, apps.ledger, TRIAL, RegistrationLimit(slots, per_hour=1, keys=KEYS)
    )
    registrations.register(FORM, key(1), NOW, client="203.0.113.7")
    with pytest.raises(RegistrationLimitError):
        registrations.register(form(2), key(2), NOW, client="203.0.113.7")
    other = "198.51.100.1"
    with pytest.raises(UsernameTakenError):
        registrations.register(FORM, key(3), NOW, client=other)
    assert registrations.register(form(3), key(4), NOW, client=other).account_id
    assert all(client != "198.51.100.1" for client, _ in slots.taken.values())  # digests only
