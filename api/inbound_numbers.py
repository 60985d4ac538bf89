"""Dedicated inbound numbers: the operator's pool (``/v1/admin/inbound-numbers``: add, assign
to an account whose module is unlocked, release) and an account's own numbers
(``/v1/account/inbound-numbers``)."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from api.auth import Need, admin_only, for_customers
from api.context import AuthRequest, Ctx
from api.schemas.inbound_numbers import (
    InboundNumberAssign,
    InboundNumberCreate,
    InboundNumberPage,
    InboundNumberRead,
)
from domain.inbound.numbers import InboundNumbers, number_of
from services.inbound_numbers import InboundNumberAdmin


def pool_page(pool: InboundNumbers, account_id: UUID | None = None) -> InboundNumberPage:
    return InboundNumberPage([
        InboundNumberRead(number, holder)
        for number, holder in sorted(pool.assigned.items())
        if account_id is None or holder == account_id
    ])  # fmt: skip


def one(pool: InboundNumbers, number: str) -> InboundNumberRead:
    return InboundNumberRead(number, pool.account_for(number))


class AdminInboundNumbersController(Controller):
    path = "/v1/admin/inbound-numbers"
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="The pool of dedicated inbound numbers")
    def index(self, ctx: Ctx, account_id: FromQuery[UUID | None] = None) -> InboundNumberPage:
        return pool_page(ctx.backend.inbound.numbers(), account_id)

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True,
          summary="Add a number to the pool")  # fmt: skip
    def add(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[InboundNumberCreate]
    ) -> InboundNumberRead:
        admin = InboundNumberAdmin(ctx.backend.accounts, ctx.backend.inbound)
        return one(admin.add(data.number, request.user.actor), number_of(data.number))

    @post("/{number:str}/assign", status_code=HTTP_200_OK, sync_to_thread=True,
          summary="Assign a number to an account (its module unlocked)")  # fmt: skip
    def assign(
        self, request: AuthRequest, ctx: Ctx, number: FromPath[str],
        data: JSONBody[InboundNumberAssign],
    ) -> InboundNumberRead:  # fmt: skip
        admin = InboundNumberAdmin(ctx.backend.accounts, ctx.backend.inbound)
        return one(admin.assign(number, data.account_id, request.user.actor), number_of(number))

    @post("/{number:str}/release", status_code=HTTP_200_OK, sync_to_thread=True,
          summary="Take a number back into the pool")  # fmt: skip
    def release(self, request: AuthRequest, ctx: Ctx, number: FromPath[str]) -> InboundNumberRead:
        admin = InboundNumberAdmin(ctx.backend.accounts, ctx.backend.inbound)
        return one(admin.release(number, request.user.actor), number_of(number))


class AccountInboundNumbersController(Controller):
    path = "/v1/account/inbound-numbers"
    tags = ["replies"]  # noqa: RUF012
    guards = [for_customers(Need.READ, Need.READ)]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="The account's dedicated inbound numbers")
    def index(self, request: AuthRequest, ctx: Ctx) -> InboundNumberPage:
        return pool_page(ctx.backend.inbound.numbers(), request.user.customer_account)
