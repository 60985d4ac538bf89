"""Account: a customer of Kontor — who they are, their contract, tariff, modules and state.

Invariants: the state is active, blocked or cancelled (cancelled is final); limits stay within
the ceiling an operator set and within the contract's own caps; modules are off until an operator
unlocks them. Contact e-mail and names are personal data (sealed under the account's data key).
Consumed by the API (authorisation, send acceptance) and the Ledger (billing type, limits).
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.accounts.callbacks import SECRET_OVERLAP, Callbacks, WebhookSecret
from domain.accounts.contract import Contract, Limits
from domain.accounts.exceptions import (
    AccountNotActiveError,
    InvalidLimitError,
    InvalidRegistrationError,
)
from domain.personal import PersonalData
from domain.tariff import Tariff

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_REVIEW_THRESHOLD = 15_000


class AccountKind(enum.StrEnum):
    COMPANY = "company"
    PERSON = "person"


class AccountState(enum.StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class Module(enum.StrEnum):
    SURVEYS = "surveys"
    APPOINTMENT_SMS = "appointment_sms"
    SMS_DIALOG = "sms_dialog"
    INBOUND_NUMBERS = "inbound_numbers"


class Salutation(enum.StrEnum):
    FRAU = "frau"
    HERR = "herr"
    DIVERS = "divers"
    NONE = "none"
    """No salutation: the letter says "Guten Tag <first> <last>"."""


POSTCODE_DE = re.compile(r"^[0-9]{5}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
ACCOUNT_NUMBER = re.compile(r"^K-[1-9][0-9]{5}$")


def account_number(n: int) -> str:
    """The account number customers quote on the phone (``K-100234``)."""
    return f"K-{n:06d}"


class Account(Aggregate):
    number: str | None
    """The short number customers quote (``K-100234``); None for accounts registered before
    numbers (and people) existed."""
    owner_id: UUID | None
    """The user who registered the account (its first owner)."""
    terms_version: str | None
    privacy_version: str | None
    salutation: Salutation | None
    first_name: PersonalData | None
    last_name: PersonalData | None
    street: PersonalData | None
    postcode: PersonalData | None
    city: PersonalData | None
    country: str | None
    phone: PersonalData | None
    two_factor_required: bool
    """The owner requires two-factor sign-in of every user of the account."""
    kind: AccountKind
    company: str | None
    contact_name: PersonalData
    email: PersonalData
    username: str
    contract: Contract
    limit_ceiling: Limits
    tariff: Tariff
    modules: frozenset[Module]
    state: AccountState
    blocked_senders: frozenset[str]
    review_threshold: int
    notice_given_on: date | None
    ends_on: date | None

    class Registered(Aggregate.Created):
        kind: AccountKind
        company: str | None
        contact_name: PersonalData
        email: PersonalData
        username: str
        contract: Contract
        tariff: Tariff
        review_threshold: int

    @event(Registered)
    def __init__(
        self,
        id: UUID,  # eventsourcing passes the chosen id (also the data key id)
        kind: AccountKind,
        company: str | None,
        contact_name: PersonalData,
        email: PersonalData,
        username: str,
        contract: Contract,
        tariff: Tariff,
        review_threshold: int,
    ) -> None:
        self.kind = kind
        self.company = company
        self.contact_name = contact_name
        self.email = email
        self.username = username
        self.contract = contract
        self.limit_ceiling = contract.limits
        self.tariff = tariff
        self.modules = frozenset()
        self.state = AccountState.ACTIVE
        self.blocked_senders = frozenset()
        self.review_threshold = review_threshold
        self.notice_given_on = None
        self.ends_on = None
        # Recorded with the owner (ProfileRecorded); None for an account without one.
        self.number = None
        self.owner_id = None
        self.terms_version = None
        self.privacy_version = None
        self.salutation = None
        self.first_name = None
        self.last_name = None
        self.street = None
        self.postcode = None
        self.city = None
        self.country = None
        self.phone = None
        self.two_factor_required = False

    @staticmethod
    def validate_registration(
        kind: AccountKind, company: str | None, contact_name: str, email: str, username: str
    ) -> None:
        if not USERNAME.match(username):
            raise InvalidRegistrationError(
                "username must be 3-40 letters, digits, '.', '-' or '_', starting with a letter "
                "or digit"
            )
        if ACCOUNT_NUMBER.match(username.upper()):
            raise InvalidRegistrationError(
                "a username may not look like an account number (K- and six digits)"
            )
        if not EMAIL.match(email):
            raise InvalidRegistrationError(f"not an e-mail address: {email!r}")
        if not contact_name.strip():
            raise InvalidRegistrationError("a contact name is required")
        if kind is AccountKind.COMPANY and not (company or "").strip():
            raise InvalidRegistrationError("a company account needs the company's name")

    @staticmethod
    def validate_profile(
        *, first_name: str, last_name: str, street: str, postcode: str, city: str, country: str,
        terms_version: str, privacy_version: str,
    ) -> None:  # fmt: skip
        for field, value in (
            ("first_name", first_name), ("last_name", last_name), ("street", street),
            ("city", city), ("terms_version", terms_version),
            ("privacy_version", privacy_version),
        ):  # fmt: skip
            if not value.strip():
                raise InvalidRegistrationError(f"{field} is required")
        if not COUNTRY.match(country):
            raise InvalidRegistrationError(
                f"country must be an ISO 3166 two-letter code such as DE, not {country!r}"
            )
        if country == "DE" and not POSTCODE_DE.match(postcode.strip()):
            raise InvalidRegistrationError(f"a German postcode has five digits, not {postcode!r}")
        if not postcode.strip():
            raise InvalidRegistrationError("postcode is required")

    class ProfileRecorded(Aggregate.Event):
        """Who registered the account, where, and which terms and privacy notice they
        accepted (all names, the address and the phone are personal data)."""

        number: str
        owner_id: UUID
        salutation: Salutation
        first_name: PersonalData
        last_name: PersonalData
        street: PersonalData
        postcode: PersonalData
        city: PersonalData
        country: str
        phone: PersonalData
        terms_version: str
        privacy_version: str

    def record_profile(
        self, *, number: str, owner_id: UUID, salutation: Salutation, first_name: str,
        last_name: str, street: str, postcode: str, city: str, country: str, phone: str,
        terms_version: str, privacy_version: str,
    ) -> None:  # fmt: skip
        Account.validate_profile(
            first_name=first_name, last_name=last_name, street=street, postcode=postcode,
            city=city, country=country, terms_version=terms_version,
            privacy_version=privacy_version,
        )  # fmt: skip
        if not ACCOUNT_NUMBER.match(number):
            raise InvalidRegistrationError(f"not an account number: {number!r}")
        key = self.id
        self._profile_recorded(
            number=number, owner_id=owner_id, salutation=salutation,
            first_name=PersonalData(key, first_name.strip()),
            last_name=PersonalData(key, last_name.strip()),
            street=PersonalData(key, street.strip()),
            postcode=PersonalData(key, postcode.strip()),
            city=PersonalData(key, city.strip()), country=country,
            phone=PersonalData(key, phone), terms_version=terms_version.strip(),
            privacy_version=privacy_version.strip(),
        )  # fmt: skip

    @event(ProfileRecorded)
    def _profile_recorded(
        self, number: str, owner_id: UUID, salutation: Salutation, first_name: PersonalData,
        last_name: PersonalData, street: PersonalData, postcode: PersonalData,
        city: PersonalData, country: str, phone: PersonalData, terms_version: str,
        privacy_version: str,
    ) -> None:  # fmt: skip
        self.number = number
        self.owner_id = owner_id
        self.salutation = salutation
        self.first_name = first_name
        self.last_name = last_name
        self.street = street
        self.postcode = postcode
        self.city = city
        self.country = country
        self.phone = phone
        self.terms_version = terms_version
        self.privacy_version = privacy_version

    class TwoFactorPolicySet(Aggregate.Event):
        required: bool
        actor: str

    def require_two_factor(self, required: bool, actor: str) -> None:
        if required is not self.two_factor_required:
            self._two_factor_policy_set(required, actor)

    @event(TwoFactorPolicySet)
    def _two_factor_policy_set(self, required: bool, actor: str) -> None:
        self.two_factor_required = required

    # -- state -----------------------------------------------------------------------------

    def ensure_active(self) -> None:
        if self.state is not AccountState.ACTIVE:
            raise AccountNotActiveError(self.state.value)

    class StateChanged(Aggregate.Event):
        state: AccountState
        reason: str
        actor: str

    def change_state(self, state: AccountState, reason: str, actor: str) -> None:
        if self.state is AccountState.CANCELLED and state is not AccountState.CANCELLED:
            raise AccountNotActiveError("cancelled")
        if state is not self.state:
            self._state_changed(state, reason, actor)

    @event(StateChanged)
    def _state_changed(self, state: AccountState, reason: str, actor: str) -> None:
        self.state = state

    # -- commercial terms ------------------------------------------------------------------

    class ContractChanged(Aggregate.Event):
        contract: Contract
        actor: str

    def change_contract(self, contract: Contract, actor: str) -> None:
        contract.validate()
        if contract != self.contract:
            self._contract_changed(contract, actor)

    @event(ContractChanged)
    def _contract_changed(self, contract: Contract, actor: str) -> None:
        self.contract = contract
        self.limit_ceiling = contract.limits

    class LimitsChanged(Aggregate.Event):
        limits: Limits
        actor: str
        by_operator: bool

    def change_limits(self, limits: Limits, actor: str, *, by_operator: bool) -> None:
        """Operators set limits (the new ceiling); customers may only lower them."""
        limits.validate()
        if not by_operator and not limits.within(self.limit_ceiling):
            raise InvalidLimitError(
                f"limits may only be lowered below daily={self.limit_ceiling.daily_parts}, "
                f"monthly={self.limit_ceiling.monthly_parts}"
            )
        self.contract.with_limits(limits)  # the contract's own caps still hold
        self._limits_changed(limits, actor, by_operator)

    @event(LimitsChanged)
    def _limits_changed(self, limits: Limits, actor: str, by_operator: bool) -> None:
        self.contract = self.contract.with_limits(limits)
        if by_operator:
            self.limit_ceiling = limits

    class TariffChanged(Aggregate.Event):
        tariff: Tariff
        actor: str

    def change_tariff(self, tariff: Tariff, actor: str) -> None:
        if tariff is not self.tariff:
            self._tariff_changed(tariff, actor)

    @event(TariffChanged)
    def _tariff_changed(self, tariff: Tariff, actor: str) -> None:
        self.tariff = tariff

    class ModulesChanged(Aggregate.Event):
        modules: frozenset[Module]
        actor: str

    def change_modules(self, modules: frozenset[Module], actor: str) -> None:
        if modules != self.modules:
            self._modules_changed(modules, actor)

    @event(ModulesChanged)
    def _modules_changed(self, modules: frozenset[Module], actor: str) -> None:
        self.modules = modules

    stop_words: frozenset[str] = frozenset()
    """The account's own words that, first in a reply, opt the handset out (beside the STOP
    words every account honours, ``domain.inbound.stop``); a class default, so accounts
    replayed from snapshots taken before it existed have none."""

    class StopWordsChanged(Aggregate.Event):
        words: frozenset[str]
        actor: str

    def change_stop_words(self, words: frozenset[str], actor: str) -> None:
        if words != self.stop_words:
            self._stop_words_changed(words, actor)

    @event(StopWordsChanged)
    def _stop_words_changed(self, words: frozenset[str], actor: str) -> None:
        self.stop_words = words

    callbacks: Callbacks = Callbacks()
    """Where replies and status changes are forwarded (``domain.accounts.callbacks``); a class
    default, like ``stop_words``."""
    webhook_secrets: tuple[WebhookSecret, ...] = ()
    """The current secret first, then a rotated-out one still signing."""

    class CallbacksChanged(Aggregate.Event):
        callbacks: Callbacks
        actor: str

    def change_callbacks(self, callbacks: Callbacks, actor: str) -> None:
        if callbacks != self.callbacks:
            self._callbacks_changed(callbacks, actor)

    @event(CallbacksChanged)
    def _callbacks_changed(self, callbacks: Callbacks, actor: str) -> None:
        self.callbacks = callbacks

    class WebhookSecretRotated(Aggregate.Event):
        secret: PersonalData
        at: datetime
        previous_retires_at: datetime | None
        actor: str

    def rotate_webhook_secret(self, secret: str, at: datetime, actor: str) -> WebhookSecret:
        """A new current secret; the one it replaces signs too until ``SECRET_OVERLAP``
        has passed (one rotated out before that retires now)."""
        retires = at + SECRET_OVERLAP if self.webhook_secrets else None
        self._webhook_secret_rotated(PersonalData(self.id, secret), at, retires, actor)
        return self.webhook_secrets[0]

    @event(WebhookSecretRotated)
    def _webhook_secret_rotated(
        self, secret: PersonalData, at: datetime, previous_retires_at: datetime | None, actor: str
    ) -> None:
        current = WebhookSecret(secret, at)
        if self.webhook_secrets:
            previous = self.webhook_secrets[0]
            self.webhook_secrets = (
                current,
                WebhookSecret(previous.secret, previous.created_at, previous_retires_at),
            )
        else:
            self.webhook_secrets = (current,)

    class BlockedSendersChanged(Aggregate.Event):
        senders: frozenset[str]
        actor: str

    def change_blocked_senders(self, senders: frozenset[str], actor: str) -> None:
        if senders != self.blocked_senders:
            self._blocked_senders_changed(senders, actor)

    @event(BlockedSendersChanged)
    def _blocked_senders_changed(self, senders: frozenset[str], actor: str) -> None:
        self.blocked_senders = senders

    def is_sender_blocked(self, sender: str) -> bool:
        return sender.casefold() in {s.casefold() for s in self.blocked_senders}

    class ReviewThresholdChanged(Aggregate.Event):
        threshold: int
        actor: str

    def change_review_threshold(self, threshold: int, actor: str) -> None:
        if threshold <= 0:
            raise InvalidLimitError("the review threshold must be positive")
        if threshold != self.review_threshold:
            self._review_threshold_changed(threshold, actor)

    @event(ReviewThresholdChanged)
    def _review_threshold_changed(self, threshold: int, actor: str) -> None:
        self.review_threshold = threshold

    class NoticeGiven(Aggregate.Event):
        given_on: date
        ends_on: date
        actor: str

    def give_notice(self, given_on: date, actor: str) -> date:
        """Record a cancellation notice; returns the day the contract ends."""
        ends_on = self.contract.earliest_end(given_on)
        self._notice_given(given_on, ends_on, actor)
        return ends_on

    @event(NoticeGiven)
    def _notice_given(self, given_on: date, ends_on: date, actor: str) -> None:
        self.notice_given_on = given_on
        self.ends_on = ends_on
