"""Shapes of the operator's (admin) and finance endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas.accounts import Amount, Parts
from domain.accounts.account import AccountState, Module
from domain.accounts.contract import ContractType
from domain.ledger.lots import PaymentMethod
from domain.tariff import Tariff

Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500)]
Reference = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class TopupCreate(msgspec.Struct, forbid_unknown_fields=True):
    net: Annotated[int, msgspec.Meta(gt=0, description="net credit in 1/10,000 EUR")]
    method: PaymentMethod
    reference: Reference
    package: Annotated[str, msgspec.Meta(max_length=100)] = "top-up"


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
Index = Annotated[int, msgspec.Meta(ge=0)]
Fee = Annotated[int, msgspec.Meta(ge=0, description="base fee in 1/10,000 EUR")]
OptionalReference = Annotated[str, msgspec.Meta(max_length=100)]


class _AdjustmentCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, tag_field="type"):
    """An adjustment: ``type`` says which, and which fields it takes."""

    reason: Reason


class GoodwillCreate(_AdjustmentCreate, tag="goodwill"):
    amount: Annotated[int, msgspec.Meta(description="positive credit in 1/10,000 EUR")] = 0
    reference: OptionalReference = ""


class CorrectionCreate(_AdjustmentCreate, tag="correction"):
    amount: Annotated[int, msgspec.Meta(description="credit (> 0) or debit (< 0)")] = 0
    reference: OptionalReference = ""


class RefundCreate(_AdjustmentCreate, tag="refund"):
    amount: Annotated[int, msgspec.Meta(description="net paid back, > 0 (VAT is added)")] = 0
    reference: OptionalReference = ""
    method: PaymentMethod | None = None


class ReleaseCreate(_AdjustmentCreate, tag="release"):
    reservation_id: UUID
    indexes: list[Index] = []
    amounts: list[Index] = []
    parts: list[Parts] = []


class CloseReservationCreate(_AdjustmentCreate, tag="close_reservation"):
    reservation_id: UUID


class ExpiredReactivateCreate(_AdjustmentCreate, tag="expired_reactivate"):
    fee: Fee = 0
    reference: OptionalReference = ""


class ExpiredOffsetCreate(_AdjustmentCreate, tag="expired_offset"):
    reference: OptionalReference = ""


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

    daily_parts: int | None = None
    monthly_parts: int | None = None


class ContractUpdate(msgspec.Struct, forbid_unknown_fields=True):
    type: ContractType
    starts_on: date | None = None
    daily_parts: int | None = None
    monthly_parts: int | None = None
    minimum_monthly_revenue: int = 0
    minimum_term_months: int = 12
    base_fee: int = 0


class AccountAdminUpdate(msgspec.Struct, forbid_unknown_fields=True):
    state: AccountState | msgspec.UnsetType = msgspec.UNSET
    reason: str = ""
    tariff: Tariff | msgspec.UnsetType = msgspec.UNSET
    contract: ContractUpdate | msgspec.UnsetType = msgspec.UNSET
    limits: OperatorLimits | msgspec.UnsetType = msgspec.UNSET
    modules: list[Module] | msgspec.UnsetType = msgspec.UNSET
    blocked_senders: list[str] | msgspec.UnsetType = msgspec.UNSET
    review_threshold: int | msgspec.UnsetType = msgspec.UNSET


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
