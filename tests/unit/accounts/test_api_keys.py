"""API keys: an account keeps at least one live key, also when revocations race, and also for
an account registered before its keys were counted."""

from __future__ import annotations

import secrets
from datetime import date
from uuid import UUID

import pytest

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres.eventstore import attach_keyring, event_store_env
from domain.accounts.account import Account, AccountKind
from domain.accounts.api_key import ApiKey, Role, UsernameClaim
from domain.accounts.application import Accounts
from domain.accounts.contract import Contract
from domain.accounts.exceptions import LastApiKeyError
from domain.accounts.key_chain import KeyChain
from domain.personal import PersonalData
from domain.tariff import Tariff
from tests.fakes.apps import memory_apps


def register(accounts: Accounts) -> tuple[UUID, UUID]:
    account_id = accounts.register(
        kind=AccountKind.PERSON, company=None, contact_name="Anna Müller",
        email="anna@example.de", username="anna", tariff=Tariff.QUALITY,
        contract=Contract.prepaid(date(2026, 3, 1)), key_prefix="first", key_digest="d1",
    )  # fmt: skip
    return account_id, accounts.api_key("first").id


def test_the_last_live_key_is_not_revoked() -> None:
    accounts = memory_apps().accounts
    account_id, first = register(accounts)
    with pytest.raises(LastApiKeyError):
        accounts.revoke_api_key(account_id, first, "customer")
    assert not accounts.api_key("first").revoked
    second = accounts.issue_api_key(account_id, prefix="second", digest="d2", label="ci")
    accounts.revoke_api_key(account_id, first, "customer")
    assert accounts.api_key("first").revoked
    with pytest.raises(LastApiKeyError):
        accounts.revoke_api_key(account_id, second, "customer")
    accounts.revoke_api_key(account_id, first, "customer")  # already revoked: nothing to do
    assert not accounts.api_key("second").revoked


class RacingAccounts(Accounts):
    """Hands out the key chain as it was before the last change, once: what a request that
    read it just before another request's revocation was saved holds."""

    stale: KeyChain | None = None

    def key_chain(self, account_id: UUID) -> KeyChain:
        if self.stale is not None:
            chain, self.stale = self.stale, None
            return chain
        return super().key_chain(account_id)


def test_two_racing_revocations_of_the_last_two_keys_leave_one() -> None:
    accounts = RacingAccounts(env=event_store_env(None))
    attach_keyring(accounts, Keyring(secrets.token_bytes(32), MemoryKeyStore()))
    account_id, first = register(accounts)
    second = accounts.issue_api_key(account_id, prefix="second", digest="d2", label="ci")
    accounts.stale = accounts.key_chain(account_id)  # read by the second request...
    accounts.revoke_api_key(account_id, first, "request 1")  # ...before the first one saved
    with pytest.raises(LastApiKeyError):
        accounts.revoke_api_key(account_id, second, "request 2")
    assert not accounts.api_key("second").revoked


def test_an_account_registered_before_key_chains_gets_its_chain_from_its_keys() -> None:
    accounts = memory_apps().accounts
    account_id = UUID("6f1d5f0e-0000-4000-8000-000000000001")
    account = Account(
        kind=AccountKind.PERSON, company=None, contact_name=PersonalData(account_id, "Old"),
        email=PersonalData(account_id, "old@example.de"), username="old",
        contract=Contract.prepaid(date(2025, 1, 1)), tariff=Tariff.QUALITY,
        review_threshold=10_000, id=account_id,
    )  # fmt: skip
    old = ApiKey(prefix="old", digest="d", account_id=account_id, role=Role.CUSTOMER, label="a")
    gone = ApiKey(prefix="gone", digest="d", account_id=account_id, role=Role.CUSTOMER, label="b")
    gone.revoke("customer")
    other = ApiKey(prefix="oth", digest="d", account_id=UUID(int=7), role=Role.CUSTOMER, label="c")
    accounts.save(account, UsernameClaim(username="old", account_id=account_id), old, gone, other)
    with pytest.raises(LastApiKeyError):
        accounts.revoke_api_key(account_id, old.id, "customer")
    new = accounts.issue_api_key(account_id, prefix="new", digest="d2", label="rotated")
    assert sorted(accounts.key_chain(account_id).live) == sorted([old.id, new])
    accounts.revoke_api_key(account_id, old.id, "customer")
    with pytest.raises(LastApiKeyError):
        accounts.revoke_api_key(account_id, new, "customer")
