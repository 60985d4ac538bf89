"""Request and response shapes of the account endpoints (msgspec Structs; amounts are integers
in 1/10,000 EUR, times ISO 8601 with offset)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import common
from domain.accounts.account import AccountKind, AccountState, Module, Salutation
from domain.accounts.contract import ContractType
from domain.accounts.user import UserRole
from domain.tariff import Tariff

Amount = Annotated[int, msgspec.Meta(description="amount in 1/10,000 EUR (790 = 0.0790 EUR)")]
Parts = Annotated[int, msgspec.Meta(gt=0, description="SMS parts")]


class RegistrationCreate(msgspec.Struct, forbid_unknown_fields=True):
    """A new account and its owner: the person registering, who signs in with ``username``
    (or ``email``, or the account number the answer gives) and ``password``."""

    kind: AccountKind
    salutation: Salutation
    first_name: Annotated[str, common.line(100, 1)]
    last_name: Annotated[str, common.line(100, 1)]
    street: Annotated[str, common.line(200, 1)]
    postcode: Annotated[str, common.line(10, 1)]
    city: Annotated[str, common.line(100, 1)]
    email: Annotated[str, common.line(254, 3)]
    phone: Annotated[str, common.line(40, 3)]
    username: Annotated[str, common.line(40, 3)]
    password: Annotated[str, common.line(256, 1, description="at least 10 characters")]
    accepted_terms: Annotated[
        str,
        common.line(40, 1, description="the version of the terms accepted (KONTOR_TERMS_VERSION)"),
    ]
    accepted_privacy: Annotated[
        str, common.line(40, 1, description="the version of the privacy notice accepted")
    ]
    country: Annotated[str, common.line(2, 2, description="ISO 3166 code")] = "DE"
    company: Annotated[str, common.line(200)] | None = None
    tariff: Tariff = Tariff.QUALITY


class RegistrationRead(msgspec.Struct):
    account_id: UUID
    account_number: str | None
    user_id: UUID | None
    username: str
    api_key: str
    api_key_id: UUID
    trial_credit: Amount
    tariff: Tariff


class LimitsRead(msgspec.Struct):
    daily_parts: int | None
    monthly_parts: int | None


class ContractRead(msgspec.Struct):
    type: ContractType
    starts_on: date
    minimum_term_months: int
    minimum_term_ends_on: date | None
    minimum_monthly_revenue: Amount
    base_fee: Amount
    limits: LimitsRead
    limit_ceiling: LimitsRead
    notice_given_on: date | None
    ends_on: date | None


class AccountRead(msgspec.Struct):
    id: UUID
    number: str | None
    """The account number to quote (``K-100234``); None for accounts registered before."""
    kind: AccountKind
    company: str | None
    contact_name: str
    email: str
    username: str
    state: AccountState
    tariff: Tariff
    contract: ContractRead
    modules: list[Module]
    blocked_senders: list[str]
    review_threshold: int
    stop_words: list[str] = msgspec.field(default_factory=list)
    """The account's own words that, first in a reply, put the handset on its opt-out list
    (beside STOP, STOPP, ABMELDEN, ABBESTELLEN and UNSUBSCRIBE)."""


class BalanceRead(msgspec.Struct):
    available: Amount
    held: Amount
    spent: Amount
    expired: Amount
    expiring_within_30_days: Amount
    credited: Amount
    debited: Amount
    receivable: Amount
    tariff: Tariff
    price_per_sms: Amount
    """What the account's next SMS to a German mobile costs: the price tier its parts this
    month have reached."""
    remaining_sms: Annotated[
        int,
        msgspec.Meta(
            description="available credit as SMS to German mobiles (Restvolumen), at the price"
            " the account pays from its month volume on, into the cheaper tiers"
        ),
    ]
    as_of: datetime | None


class StatementLineRead(msgspec.Struct):
    position: str
    recorded_at: datetime
    kind: str
    description: str
    amount: Amount
    balance: Amount


class StatementRead(msgspec.Struct):
    lines: list[StatementLineRead]
    next_cursor: str | None


class LimitsUpdate(msgspec.Struct, forbid_unknown_fields=True):
    daily_parts: common.PositiveCount | msgspec.UnsetType | None = msgspec.UNSET
    monthly_parts: common.PositiveCount | msgspec.UnsetType | None = msgspec.UNSET


class ApiKeyCreate(msgspec.Struct, forbid_unknown_fields=True):
    label: common.Label = ""
    role: Annotated[UserRole, msgspec.Meta(description="owner, sender, finance or viewer")] = (
        UserRole.OWNER
    )


class ApiKeyRead(msgspec.Struct):
    id: UUID
    api_key: str
    label: str
    role: UserRole


class ApiKeyRow(msgspec.Struct):
    id: UUID
    prefix: str
    """The key's public part (``kt_<prefix>_...``): it names the key, it is not the key."""
    label: str
    role: UserRole
    created_at: datetime


class ApiKeyList(msgspec.Struct):
    items: list[ApiKeyRow]
    """The account's live keys, oldest first."""


class EarliestEndRead(msgspec.Struct):
    notice_given_on: date
    ends_on: date


class NoticeCreate(msgspec.Struct, forbid_unknown_fields=True):
    given_on: date | None = None


class AutoRechargeUpdate(msgspec.Struct, forbid_unknown_fields=True):
    threshold: common.Amount | None
    package_net: common.Amount | None


ContractKind = Literal["prepaid", "postpaid", "small_volume"]


class StopWordsUpdate(msgspec.Struct, forbid_unknown_fields=True):
    words: Annotated[list[Annotated[str, msgspec.Meta(max_length=30)]],
                     msgspec.Meta(max_length=20)]  # fmt: skip
    """Replaces the account's own STOP words: single words of letters or digits."""


class StopWordsRead(msgspec.Struct):
    words: list[str]
    """As compared: without case or accents."""
