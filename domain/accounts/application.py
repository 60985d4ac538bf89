"""The Accounts application: registration, API keys, and the operator's and customer's changes.

Registration saves the account, its username claim and its first API key in one transaction;
a taken username collides on the claim's id and nothing is recorded.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.accounts.account import (
    DEFAULT_REVIEW_THRESHOLD,
    Account,
    AccountKind,
    AccountState,
    Module,
)
from domain.accounts.api_key import ApiKey, Role, UsernameClaim
from domain.accounts.contract import Contract, Limits
from domain.accounts.exceptions import ApiKeyNotFoundError, UsernameTakenError
from domain.accounts.key_chain import KeyChain
from domain.base import KontorApplication
from domain.personal import PersonalData
from domain.tariff import Tariff

CHAIN_ATTEMPTS = 3
"""Tries of a key change whose account's key chain another request changed meanwhile."""


class Accounts(KontorApplication):
    def register(
        self,
        *,
        kind: AccountKind,
        company: str | None,
        contact_name: str,
        email: str,
        username: str,
        tariff: Tariff,
        contract: Contract,
        key_prefix: str,
        key_digest: str,
        account_id: UUID | None = None,
        review_threshold: int = DEFAULT_REVIEW_THRESHOLD,
    ) -> UUID:
        Account.validate_registration(kind, company, contact_name, email, username)
        contract.validate()
        new_id = account_id or uuid4()
        account = Account(
            kind=kind,
            company=company.strip() if company else None,
            contact_name=PersonalData(new_id, contact_name.strip()),
            email=PersonalData(new_id, email.strip()),
            username=username,
            contract=contract,
            tariff=tariff,
            review_threshold=review_threshold,
            id=new_id,
        )
        claim = UsernameClaim(username=username, account_id=account.id)
        key = ApiKey(
            prefix=key_prefix,
            digest=key_digest,
            account_id=account.id,
            role=Role.CUSTOMER,
            label="first key",
        )
        chain = KeyChain(account_id=account.id, live=[key.id])
        try:
            self.save(account, claim, key, chain)
        except IntegrityError as exc:
            if UsernameClaim.create_id(username) in self.repository:
                raise UsernameTakenError(username) from exc
            raise
        return account.id

    def account(self, account_id: UUID) -> Account:
        account: Account = self.repository.get(account_id)
        return account

    def api_key(self, prefix: str) -> ApiKey:
        key: ApiKey = self.repository.get(ApiKey.create_id(prefix))
        return key

    def issue_api_key(
        self, account_id: UUID, *, prefix: str, digest: str, label: str, role: Role = Role.CUSTOMER
    ) -> UUID:
        self.account(account_id)  # the account must exist
        key = ApiKey(prefix=prefix, digest=digest, account_id=account_id, role=role, label=label)
        for attempt in range(CHAIN_ATTEMPTS):
            chain = self.key_chain(account_id)
            chain.add(key.id)
            try:
                self.save(key, chain)
                break
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise
        return key.id

    def revoke_api_key(self, account_id: UUID, key_id: UUID, actor: str) -> None:
        """Revoke one of the account's keys; refused for its last live one
        (``LastApiKeyError``), also when two revocations race for the last two."""
        for attempt in range(CHAIN_ATTEMPTS):
            try:
                key: ApiKey = self.repository.get(key_id)
            except AggregateNotFoundError as exc:
                raise ApiKeyNotFoundError(f"no API key {key_id} on this account") from exc
            if key.account_id != account_id:
                raise ApiKeyNotFoundError(f"no API key {key_id} on this account")
            chain = self.key_chain(account_id)
            chain.remove(key_id)
            key.revoke(actor)
            try:
                self.save(key, chain)
                return
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise

    def key_chain(self, account_id: UUID) -> KeyChain:
        """The account's live keys; for an account registered before chains existed, built
        from its keys' events (once: the caller saves it)."""
        chain_id = KeyChain.create_id(account_id)
        try:
            chain: KeyChain = self.repository.get(chain_id)
            return chain
        except AggregateNotFoundError:
            pass
        issued = get_topic(ApiKey.Issued)
        live: list[UUID] = []
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(
                start, 1000, topics=[issued], inclusive_of_start=False
            )
            for notification in page:
                issued_event = self.mapper.to_domain_event(notification)
                if getattr(issued_event, "account_id", None) == account_id:
                    key: ApiKey = self.repository.get(issued_event.originator_id)
                    if not key.revoked:
                        live.append(key.id)
            if len(page) < 1000:
                break
            start = page[-1].id
        return KeyChain(account_id=account_id, live=live)

    def change_limits(
        self, account_id: UUID, limits: Limits, actor: str, *, by_operator: bool
    ) -> Account:
        account = self.account(account_id)
        account.change_limits(limits, actor, by_operator=by_operator)
        self.save(account)
        return account

    def administer(
        self,
        account_id: UUID,
        *,
        actor: str,
        state: AccountState | None = None,
        reason: str = "",
        tariff: Tariff | None = None,
        contract: Contract | None = None,
        modules: frozenset[Module] | None = None,
        blocked_senders: frozenset[str] | None = None,
        review_threshold: int | None = None,
    ) -> Account:
        """An operator's change of state, tariff, contract, modules or blocked senders."""
        account = self.account(account_id)
        if state is not None:
            account.change_state(state, reason, actor)
        if tariff is not None:
            account.change_tariff(tariff, actor)
        if contract is not None:
            account.change_contract(contract, actor)
        if modules is not None:
            account.change_modules(modules, actor)
        if blocked_senders is not None:
            account.change_blocked_senders(blocked_senders, actor)
        if review_threshold is not None:
            account.change_review_threshold(review_threshold, actor)
        self.save(account)
        return account

    def give_notice(self, account_id: UUID, given_on: date, actor: str) -> date:
        account = self.account(account_id)
        ends_on = account.give_notice(given_on, actor)
        self.save(account)
        return ends_on
