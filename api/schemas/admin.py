"""Shapes of the operator's (admin) and finance endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import common
from api.schemas.accounts import Amount
from domain.accounts.account import AccountState, Module
from domain.accounts.contract import ContractType
from domain.ledger.lots import PaymentMethod
from domain.tariff import Tariff


class TopupCreate(msgspec.Struct, forbid_unknown_fields=True):
    net: common.Amount
    """Net credit in 1/10,000 EUR."""
    method: PaymentMethod
    reference: common.Reference
    package: Annotated[str, common.line(100)] = "top-up"


class TopupRead(msgspec.Struct):
    lot_id: UUID
    net: Amount
    vat: Amount
    gross: Amount
    expires_at: datetime | None
    repeated: bool


AdjustmentType = Literal[
    "goodwill",
    "correction",
    "refund",
    "release",
    "close_reservation",
    "expired_reactivate",
    "expired_offset",
]
MAX_ITEMS = 100_000
"""Messages one release names at most."""


class _AdjustmentCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """An adjustment: ``type`` says which, and which fields it takes."""

    reason: common.Reason


class GoodwillCreate(_AdjustmentCreate, tag="goodwill"):
    amount: common.Amount
    """Positive credit in 1/10,000 EUR."""
    reference: common.OptionalReference = ""


class CorrectionCreate(_AdjustmentCreate, tag="correction"):
    amount: common.SignedAmount
    reference: common.OptionalReference = ""


class RefundCreate(_AdjustmentCreate, tag="refund"):
    amount: common.Amount
    """Net paid back in 1/10,000 EUR (VAT is added)."""
    reference: common.OptionalReference = ""
    method: PaymentMethod | None = None


class ReleaseCreate(_AdjustmentCreate, tag="release"):
    reservation_id: UUID
    indexes: Annotated[list[common.Count], msgspec.Meta(max_length=MAX_ITEMS)] = []
    amounts: Annotated[list[common.NonNegativeAmount], msgspec.Meta(max_length=MAX_ITEMS)] = []
    parts: Annotated[list[common.PositiveCount], msgspec.Meta(max_length=MAX_ITEMS)] = []


class CloseReservationCreate(_AdjustmentCreate, tag="close_reservation"):
    reservation_id: UUID


class ExpiredReactivateCreate(_AdjustmentCreate, tag="expired_reactivate"):
    fee: common.NonNegativeAmount = 0
    """Base fee in 1/10,000 EUR."""
    reference: common.OptionalReference = ""


class ExpiredOffsetCreate(_AdjustmentCreate, tag="expired_offset"):
    reference: common.OptionalReference = ""


AdjustmentCreate = (
    GoodwillCreate
    | CorrectionCreate
    | RefundCreate
    | ReleaseCreate
    | CloseReservationCreate
    | ExpiredReactivateCreate
    | ExpiredOffsetCreate
)


class AdjustmentRead(msgspec.Struct):
    type: AdjustmentType
    amount: Amount
    actor: str
    repeated: bool = False
    """Its reference was booked before: nothing new was (the answer is then 200)."""


class OperatorLimits(msgspec.Struct, forbid_unknown_fields=True):
    """The limits an operator sets (None: no limit); a customer may only lower them."""

    daily_parts: common.Count | None = None
    monthly_parts: common.Count | None = None


class ContractUpdate(msgspec.Struct, forbid_unknown_fields=True):
    type: ContractType
    starts_on: date | None = None
    daily_parts: common.Count | None = None
    monthly_parts: common.Count | None = None
    minimum_monthly_revenue: common.NonNegativeAmount = 0
    minimum_term_months: Annotated[int, msgspec.Meta(ge=0, le=1_200)] = 12
    base_fee: common.NonNegativeAmount = 0


class AccountAdminUpdate(msgspec.Struct, forbid_unknown_fields=True):
    state: AccountState | msgspec.UnsetType = msgspec.UNSET
    reason: Annotated[str, common.line(500)] = ""
    tariff: Tariff | msgspec.UnsetType = msgspec.UNSET
    contract: ContractUpdate | msgspec.UnsetType = msgspec.UNSET
    limits: OperatorLimits | msgspec.UnsetType = msgspec.UNSET
    modules: list[Module] | msgspec.UnsetType = msgspec.UNSET
    blocked_senders: (
        Annotated[list[common.Sender], msgspec.Meta(max_length=1_000)] | msgspec.UnsetType
    ) = msgspec.UNSET
    review_threshold: common.Count | msgspec.UnsetType = msgspec.UNSET


class TrialBalanceLine(msgspec.Struct):
    account: str
    title: str
    debit: Amount
    credit: Amount


class TrialBalanceRead(msgspec.Struct):
    as_of: datetime | None
    lines: list[TrialBalanceLine]
    total_debit: Amount
    total_credit: Amount
    balanced: bool


class PostingRead(msgspec.Struct):
    account: str
    title: str
    debit: Amount
    credit: Amount


class JournalEntryRead(msgspec.Struct):
    position: str
    recorded_at: datetime
    customer: UUID
    kind: str
    description: str
    event: str
    postings: list[PostingRead]


class JournalRead(msgspec.Struct):
    entries: list[JournalEntryRead]
    next_cursor: str | None
