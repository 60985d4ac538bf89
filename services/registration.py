"""Registering a customer: the account (with its username claim and first API key, one
transaction in Accounts) and its prepaid wallet with the trial credit (one in the Ledger).

Two applications are two transactions, so a crash between them leaves an account without a
wallet. Nothing stays that way:

- The client's retry of the same registration (same username, e-mail, contact name, kind and
  company) within ``REPAIR_AFTER`` finds the account without a wallet: it opens the wallet and
  issues a new first API key, answered like a first registration. The first key's secret was
  never shown (the crash came before the answer) and exists nowhere, so nobody holds it. A
  finished registration is never answered again: its username is taken.
- The sweeper (``repair_incomplete``) opens the wallet, with the trial credit it would have
  had, of every account registered more than ``REPAIR_AFTER`` ago that still has none. It
  follows the accounts' registrations on a position of its own, so each is looked at once.

Opening a wallet and granting the trial credit are idempotent (the lot id derives from the
account), so the API, a retry and the sweeper may all try: the credit is granted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

import phonenumbers

from adapters.crypto.passwords import check_policy
from domain.accounts.account import Account, AccountKind, Salutation
from domain.accounts.api_key import UsernameClaim
from domain.accounts.application import Accounts, Owner
from domain.accounts.contract import Contract
from domain.accounts.exceptions import InvalidRegistrationError, UsernameTakenError
from domain.ledger.application import Ledger
from domain.ledger.billing import BERLIN
from domain.tariff import Tariff
from services.registration_limit import RegistrationLimit
from services.signin import PasswordHashes

REPAIR_AFTER = timedelta(minutes=10)
"""How long an account without a wallet waits for its client's retry before the sweeper opens
the wallet (after that, a retry is told the username is taken)."""


@dataclass(frozen=True)
class OwnerForm:
    """The registering person (the account's first user, role owner), as typed."""

    salutation: Salutation
    first_name: str
    last_name: str
    street: str
    postcode: str
    city: str
    country: str
    phone: str
    password: str
    accepted_terms: str
    """The version of the terms the person accepted."""
    accepted_privacy: str


@dataclass(frozen=True)
class RegistrationForm:
    kind: AccountKind
    contact_name: str
    email: str
    username: str
    company: str | None
    tariff: Tariff
    owner: OwnerForm | None = None
    """The person, with the password they sign in with: required over HTTP; services and
    tests may register an account without one (it is then reached with API keys only)."""


@dataclass(frozen=True)
class Versions:
    """The terms and privacy notice a registration must accept."""

    terms: str
    privacy: str


def phone_e164(phone: str, country: str) -> str:
    """A phone number as typed (national in ``country``, or international) in E.164."""
    try:
        parsed = phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRegistrationError(f"not a phone number: {phone!r}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidRegistrationError(f"not a valid phone number: {phone!r}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class NewApiKey:
    """A freshly generated key: the secret for the answer, prefix and digest to store."""

    plaintext: str
    prefix: str
    digest: str


@dataclass(frozen=True)
class Registered:
    account_id: UUID
    api_key: str
    api_key_id: UUID
    trial_credit: int
    retried: bool
    """The registration was finished by a retry (the first attempt crashed half-way)."""


class Registration(Protocol):
    """What the sweeper needs to know of a registration it may have to finish."""

    @property
    def position(self) -> int:
        """Its notification id in the Accounts log."""
        ...

    @property
    def account_id(self) -> UUID: ...

    @property
    def registered_at(self) -> datetime: ...


class RegistrationLog(Protocol):
    """The accounts' registrations in the order they were recorded, and how far the repair
    has looked (``adapters.postgres.registrations``)."""

    def registrations_after(self, position: int, limit: int) -> Sequence[Registration]: ...

    def repaired_up_to(self) -> int: ...

    def save_position(self, position: int) -> None: ...


@dataclass(frozen=True)
class Trial:
    credit: int
    """Granted on registration, in 1/10,000 EUR."""
    validity: timedelta


class Registrations:
    def __init__(
        self,
        accounts: Accounts,
        ledger: Ledger,
        trial: Trial,
        limit: RegistrationLimit | None = None,
        passwords: PasswordHashes | None = None,
        versions: Versions | None = None,
    ) -> None:
        self.accounts = accounts
        self.ledger = ledger
        self.trial = trial
        self.limit = limit
        self.passwords = passwords
        self.versions = versions

    def register(
        self, form: RegistrationForm, key: NewApiKey, now: datetime, client: str | None = None
    ) -> Registered:
        """Register a customer, or finish the registration a crash left half-made. With a
        limit, ``client`` (the caller's address) must have a slot left this hour
        (``RegistrationLimitError`` otherwise); a registration refused for another reason
        gives its slot back."""
        if self.limit is None or client is None:
            return self._register(form, key, now)
        slot = self.limit.take(client, now)
        try:
            return self._register(form, key, now)
        except BaseException:
            self.limit.give_back(slot)
            raise

    def owner(self, form: RegistrationForm) -> Owner | None:
        """The owner to record, checked (terms, password policy, phone) and its password
        hashed; None for a form without one."""
        person = form.owner
        if person is None:
            return None
        if self.passwords is None:
            raise RuntimeError("registering a person needs the password hasher")
        versions = self.versions
        if versions is not None and person.accepted_terms != versions.terms:
            raise InvalidRegistrationError(
                f"accept the current terms and conditions (accepted_terms: {versions.terms!r})"
            )
        if versions is not None and person.accepted_privacy != versions.privacy:
            raise InvalidRegistrationError(
                f"accept the current privacy notice (accepted_privacy: {versions.privacy!r})"
            )
        country = person.country.strip().upper()
        Account.validate_profile(
            first_name=person.first_name, last_name=person.last_name, street=person.street,
            postcode=person.postcode, city=person.city, country=country,
            terms_version=person.accepted_terms, privacy_version=person.accepted_privacy,
        )  # fmt: skip
        phone = phone_e164(person.phone, country)
        check_policy(person.password, username=form.username, email=form.email)
        return Owner(
            salutation=person.salutation, first_name=person.first_name,
            last_name=person.last_name, street=person.street, postcode=person.postcode,
            city=person.city, country=country, phone=phone,
            password_hash=self.passwords.hash(person.password),
            terms_version=person.accepted_terms, privacy_version=person.accepted_privacy,
        )  # fmt: skip

    def _register(self, form: RegistrationForm, key: NewApiKey, now: datetime) -> Registered:
        owner = self.owner(form)
        try:
            account_id = self.accounts.register(
                kind=form.kind,
                company=form.company,
                contact_name=form.contact_name,
                email=form.email,
                username=form.username,
                tariff=form.tariff,
                contract=Contract.prepaid(now.astimezone(BERLIN).date()),
                key_prefix=key.prefix,
                key_digest=key.digest,
                owner=owner,
            )
        except UsernameTakenError:
            return self._finish_retried(form, key, now)
        self.open_wallet(account_id, now)
        key_id = self.accounts.api_key(key.prefix).id
        return Registered(account_id, key.plaintext, key_id, self.trial.credit, retried=False)

    def _finish_retried(self, form: RegistrationForm, key: NewApiKey, now: datetime) -> Registered:
        claim_id = UsernameClaim.create_id(form.username)
        if claim_id not in self.accounts.repository:  # a user's (an invitee's, staff's) name
            raise UsernameTakenError(form.username)
        claim: UsernameClaim = self.accounts.repository.get(claim_id)
        account = self.accounts.account(claim.account_id)
        if (
            self.ledger.has_wallet(account.id)
            or now - account.created_on > REPAIR_AFTER
            or not same_registration(account, form)
        ):
            raise UsernameTakenError(form.username)
        self.open_wallet(account.id, account.created_on)
        key_id = self.accounts.issue_api_key(
            account.id, prefix=key.prefix, digest=key.digest, label="first key"
        )
        return Registered(account.id, key.plaintext, key_id, self.trial.credit, retried=True)

    def open_wallet(self, account_id: UUID, registered_at: datetime) -> None:
        """The account's prepaid wallet with the trial credit, valid from its registration."""
        self.ledger.open_prepaid_wallet(
            account_id,
            trial_credit=self.trial.credit,
            trial_expires_at=registered_at + self.trial.validity,
            now=registered_at,
        )

    def repair_incomplete(self, log: RegistrationLog, now: datetime, limit: int = 500) -> int:
        """Open the wallet of every account registered before ``now - REPAIR_AFTER`` that has
        none; returns how many were opened. Stops at the first registration still inside its
        retry window (the next sweep goes on from there)."""
        position = log.repaired_up_to()
        opened = 0
        for registration in log.registrations_after(position, limit):
            if now - registration.registered_at <= REPAIR_AFTER:
                break
            if not self.ledger.has_wallet(registration.account_id):
                self.open_wallet(registration.account_id, registration.registered_at)
                opened += 1
            position = registration.position
        log.save_position(position)
        return opened


def same_registration(account: Account, form: RegistrationForm) -> bool:
    """The form is the one the account was registered with (a client's retry)."""
    return (
        account.kind is form.kind
        and account.username == form.username
        and (account.company or None) == ((form.company or "").strip() or None)
        and account.contact_name.value == form.contact_name.strip()
        and account.email.value == form.email.strip()
    )
