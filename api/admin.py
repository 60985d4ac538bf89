"""The operator's endpoints: top-ups, adjustments (goodwill, corrections, refunds, releases,
expired credit) and account administration. Every change names the acting key."""

from __future__ import annotations

from typing import cast
from uuid import UUID

import msgspec
from litestar import Controller, Response, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.accounts import account_read
from api.auth import admin_only
from api.context import AuthRequest, Ctx
from api.schemas.accounts import AccountRead
from api.schemas.admin import (
    AccountAdminUpdate,
    AdjustmentCreate,
    AdjustmentRead,
    AdjustmentType,
    CloseReservationCreate,
    ContractUpdate,
    CorrectionCreate,
    ExpiredOffsetCreate,
    ExpiredReactivateCreate,
    GoodwillCreate,
    RefundCreate,
    ReleaseCreate,
    TopupCreate,
    TopupRead,
)
from domain.accounts.account import AccountState
from domain.accounts.contract import Limits
from domain.ledger.lots import ExpiredOption, PaymentMethod
from services.adjustments import (
    Adjustment,
    CloseReservation,
    Correction,
    Goodwill,
    Refund,
    Release,
    SettleExpired,
)
from services.administration import AccountChange, ContractTerms


class AdminAccountsController(Controller):
    path = "/v1/admin/accounts"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @post("/{account_id:uuid}/topups", sync_to_thread=True, summary="Credit a paid package")
    def topup(
        self,
        request: AuthRequest,
        ctx: Ctx,
        account_id: FromPath[UUID],
        data: JSONBody[TopupCreate],
    ) -> Response[TopupRead]:
        topup = ctx.credits.topup(
            account_id,
            net=data.net,
            method=data.method,
            reference=data.reference,
            package=data.package,
            actor=request.user.actor,
            now=ctx.now(),
        )
        return Response(
            TopupRead(
                topup.lot_id, topup.net, topup.vat, topup.gross, topup.expires_at, topup.repeated
            ),
            status_code=HTTP_200_OK if topup.repeated else HTTP_201_CREATED,
        )

    @post(
        "/{account_id:uuid}/adjustments",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Goodwill, correction, refund, release or expired-credit settlement",
    )
    def adjust(
        self,
        request: AuthRequest,
        ctx: Ctx,
        account_id: FromPath[UUID],
        data: JSONBody[AdjustmentCreate],
    ) -> Response[AdjustmentRead]:
        adjustment = adjustment_of(data)
        adjusted = ctx.credits.adjust(account_id, adjustment, request.user.actor, ctx.now())
        kind = cast("AdjustmentType", type(data).__struct_config__.tag)  # the request's own tag
        return Response(
            AdjustmentRead(kind, adjusted.amount, request.user.actor, adjusted.repeated),
            status_code=HTTP_200_OK if adjusted.repeated else HTTP_201_CREATED,
        )

    @patch("/{account_id:uuid}", sync_to_thread=True, summary="State, tariff, contract, modules")
    def administer(
        self,
        request: AuthRequest,
        ctx: Ctx,
        account_id: FromPath[UUID],
        data: JSONBody[AccountAdminUpdate],
    ) -> AccountRead:
        unset = msgspec.UNSET
        change = AccountChange(
            state=None if data.state is unset else AccountState(data.state),
            reason=data.reason,
            tariff=None if data.tariff is unset else data.tariff,
            contract=None if data.contract is unset else contract_terms(data.contract),
            modules=None if data.modules is unset else frozenset(data.modules),
            blocked_senders=None
            if data.blocked_senders is unset
            else frozenset(data.blocked_senders),
            review_threshold=None if data.review_threshold is unset else data.review_threshold,
            limits=None
            if data.limits is unset
            else Limits(data.limits.daily_parts, data.limits.monthly_parts),
        )
        account = ctx.administration.administer(account_id, change, request.user.actor, ctx.now())
        return account_read(account)


def contract_terms(update: ContractUpdate) -> ContractTerms:
    return ContractTerms(
        type=update.type,
        starts_on=update.starts_on,
        daily_parts=update.daily_parts,
        monthly_parts=update.monthly_parts,
        minimum_monthly_revenue=update.minimum_monthly_revenue,
        minimum_term_months=update.minimum_term_months,
        base_fee=update.base_fee,
    )


def adjustment_of(data: AdjustmentCreate) -> Adjustment:  # noqa: PLR0911 - a return per kind
    """The request's adjustment as the service's command."""
    match data:
        case GoodwillCreate():
            return Goodwill(data.amount, data.reason, data.reference)
        case CorrectionCreate():
            return Correction(data.amount, data.reason, data.reference)
        case RefundCreate():
            method = data.method or PaymentMethod.BANK_TRANSFER
            return Refund(data.amount, data.reason, data.reference, method)
        case ReleaseCreate():
            return Release(
                data.reservation_id,
                tuple(data.indexes),
                tuple(data.amounts),
                tuple(data.parts),
                data.reason,
            )
        case CloseReservationCreate():
            return CloseReservation(data.reservation_id, data.reason)
        case ExpiredReactivateCreate():
            return SettleExpired(ExpiredOption.REACTIVATE, data.fee, data.reason, data.reference)
        case ExpiredOffsetCreate():
            return SettleExpired(ExpiredOption.OFFSET, 0, data.reason, data.reference)
