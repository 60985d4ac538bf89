"""Account: a customer of Kontor — who they are, their contract, tariff, modules and state.

Invariants: the state is active, blocked or cancelled (cancelled is final); limits stay within
the ceiling an operator set and within the contract's own caps; modules are off until an operator
unlocks them. Contact e-mail and names are personal data (sealed under the account's data key).
Consumed by the API (authorisation, send acceptance) and the Ledger (billing type, limits).
"""

from __future__ import annotations

import enum
import re
from datetime import date
from uuid import UUID

from eventsourcing.domain import Aggregate, event

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


class Account(Aggregate):
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

    @staticmethod
    def validate_registration(
        kind: AccountKind, company: str | None, contact_name: str, email: str, username: str
    ) -> None:
        if not USERNAME.match(username):
            raise InvalidRegistrationError(
                "username must be 3-40 letters, digits, '.', '-' or '_', starting with a letter "
                "or digit"
            )
        if not EMAIL.match(email):
            raise InvalidRegistrationError(f"not an e-mail address: {email!r}")
        if not contact_name.strip():
            raise InvalidRegistrationError("a contact name is required")
        if kind is AccountKind.COMPANY and not (company or "").strip():
            raise InvalidRegistrationError("a company account needs the company's name")

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
