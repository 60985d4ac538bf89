"""The operator's endpoints: top-ups, adjustments (goodwill, corrections, refunds, releases,
expired credit) and account administration. Every change names the acting key."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec
from litestar import Controller, Response, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.accounts import account_read
from api.auth import admin_only
from api.context import ApiContext, AuthRequest, Ctx
from api.errors import ProblemError
from api.schemas.accounts import AccountRead
from api.schemas.admin import (
    AccountAdminUpdate,
    AdjustmentCreate,
    AdjustmentRead,
    ContractUpdate,
    TopupCreate,
    TopupRead,
)
from domain.accounts.account import AccountState
from domain.accounts.contract import Contract, ContractType, Limits
from domain.accounts.contract import add_months as months_after
from domain.ledger.billing import BERLIN, Billing
from domain.ledger.lots import LotSource, PaymentMethod
from domain.money import vat_on

BILLING_OF_CONTRACT = {
    ContractType.PREPAID: Billing.PREPAID,
    ContractType.POSTPAID: Billing.POSTPAID,
    ContractType.SMALL_VOLUME: Billing.SMALL_VOLUME,
}


def package_expiry(now: datetime, months: int) -> datetime:
    local = now.astimezone(BERLIN)
    return datetime.combine(months_after(local.date(), months), local.timetz())


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
        ledger = ctx.backend.ledger
        ctx.backend.accounts.account(account_id)
        repeated = ledger.wallet(account_id).lot_for_reference(data.reference) is not None
        now = ctx.now()
        vat = vat_on(data.net)
        lot_id = ledger.purchase(
            account_id,
            net=data.net,
            vat=vat,
            method=data.method,
            reference=data.reference,
            package=data.package,
            now=now,
            expires_at=package_expiry(now, ctx.settings.package_validity_months),
        )
        lot = ledger.wallet(account_id).lots[lot_id]
        return Response(
            TopupRead(lot_id, lot.amount, vat, lot.amount + vat, lot.expires_at, repeated=repeated),
            status_code=HTTP_200_OK if repeated else HTTP_201_CREATED,
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
    ) -> AdjustmentRead:
        ctx.backend.accounts.account(account_id)
        amount = apply_adjustment(ctx, account_id, data, request.user.actor)
        return AdjustmentRead(data.type, amount, request.user.actor)

    @patch("/{account_id:uuid}", sync_to_thread=True, summary="State, tariff, contract, modules")
    def administer(
        self,
        request: AuthRequest,
        ctx: Ctx,
        account_id: FromPath[UUID],
        data: JSONBody[AccountAdminUpdate],
    ) -> AccountRead:
        accounts = ctx.backend.accounts
        unset = msgspec.UNSET
        contract = None
        if data.contract is not unset:
            contract = contract_of(data.contract, ctx.now())
        account = accounts.administer(
            account_id,
            actor=request.user.actor,
            state=None if data.state is unset else AccountState(data.state),
            reason=data.reason,
            tariff=None if data.tariff is unset else data.tariff,
            contract=contract,
            modules=None if data.modules is unset else frozenset(data.modules),
            blocked_senders=None
            if data.blocked_senders is unset
            else frozenset(data.blocked_senders),
            review_threshold=None if data.review_threshold is unset else data.review_threshold,
        )
        if data.limits is not unset:
            limits = Limits(data.limits.daily_parts, data.limits.monthly_parts)
            account = accounts.change_limits(
                account_id, limits, request.user.actor, by_operator=True
            )
        if contract is not None:
            ctx.backend.ledger.change_billing(account_id, BILLING_OF_CONTRACT[contract.type])
        return account_read(account)


def contract_of(update: ContractUpdate, now: datetime) -> Contract:
    starts_on = update.starts_on or now.astimezone(BERLIN).date()
    if update.type is ContractType.PREPAID:
        return Contract.prepaid(starts_on)
    if update.type is ContractType.POSTPAID:
        return Contract.postpaid(
            starts_on,
            daily_parts=update.daily_parts,
            monthly_parts=update.monthly_parts,
            minimum_monthly_revenue=update.minimum_monthly_revenue,
            minimum_term_months=update.minimum_term_months,
        )
    return Contract.small_volume(
        starts_on, base_fee=update.base_fee, daily_parts=update.daily_parts
    )


def apply_adjustment(ctx: ApiContext, account_id: UUID, data: AdjustmentCreate, actor: str) -> int:
    ledger = ctx.backend.ledger
    now = ctx.now()
    reference = data.reference or f"{data.type}:{now.isoformat()}"
    if data.type in ("goodwill", "correction") and data.amount > 0:
        source = LotSource.GOODWILL if data.type == "goodwill" else LotSource.CORRECTION
        expires_at = package_expiry(now, ctx.settings.package_validity_months)
        ledger.grant(
            account_id,
            source=source,
            amount=data.amount,
            reference=reference,
            reason=data.reason,
            actor=actor,
            now=now,
            expires_at=expires_at,
        )
        return data.amount
    if data.type == "correction" and data.amount < 0:
        ledger.debit(
            account_id,
            amount=-data.amount,
            kind="correction",
            reason=data.reason,
            actor=actor,
            now=now,
        )
        return data.amount
    if data.type == "refund" and data.amount > 0:
        method = data.method or PaymentMethod.BANK_TRANSFER
        ledger.debit(
            account_id,
            amount=data.amount,
            kind="refund",
            reason=data.reason,
            actor=actor,
            now=now,
            vat=vat_on(data.amount),
            method=method,
            reference=reference,
        )
        return -data.amount
    if data.type == "release" and data.reservation_id is not None:
        _own_reservation(ctx, account_id, data.reservation_id)
        return ledger.release(
            data.reservation_id,
            data.indexes,
            data.amounts,
            data.parts or [1] * len(data.indexes),
            reason=f"{data.reason} ({actor})",
            now=now,
        )
    if data.type == "close_reservation" and data.reservation_id is not None:
        _own_reservation(ctx, account_id, data.reservation_id)
        return ledger.close_reservation(
            data.reservation_id, reason=f"{data.reason} ({actor})", now=now
        )
    if data.type in ("expired_reactivate", "expired_offset"):
        option = data.type.removeprefix("expired_")
        before = ledger.wallet(account_id).expired
        ledger.settle_expired(
            account_id,
            option=option,
            fee=data.fee,
            actor=actor,
            now=now,
            expires_at=package_expiry(now, ctx.settings.package_validity_months),
            reference=reference,
        )
        return before
    raise ProblemError(
        422,
        "invalid-adjustment",
        "Invalid adjustment",
        "goodwill and refund need a positive amount, correction a non-zero one, release and "
        "close_reservation a reservation_id",
    )


def _own_reservation(ctx: ApiContext, account_id: UUID, reservation_id: UUID) -> None:
    if ctx.backend.ledger.reservation(reservation_id).account_id != account_id:
        raise ProblemError(404, "not-found", "Not found", f"no reservation {reservation_id} here")
