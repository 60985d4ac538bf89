"""``/v1/account/me/two-factor``: a signed-in user sets up (``POST``, then ``POST .../confirm``
with a code) or turns off (``POST .../disable`` with a code) two-factor sign-in;
``PUT /v1/account/two-factor`` is the owner's rule that every user of the account uses it
(``services.two_factor``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, post, put
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth import Need, anyone_signed_in, for_customers
from api.context import AuthRequest, Ctx
from api.schemas import common
from api.sessions import own_session

owner_only = for_customers(Need.OWNER, Need.OWNER)
Code = Annotated[str, common.line(20, 6)]


class TwoFactorSetupRead(msgspec.Struct):
    secret: str
    """For an app that cannot read the QR code: type it in."""
    otpauth_uri: str
    qr_svg: str


class CodeCreate(msgspec.Struct, forbid_unknown_fields=True):
    code: Code


class RecoveryCodesRead(msgspec.Struct):
    recovery_codes: list[str]
    """Each works once instead of a code; shown only now."""


class TwoFactorPolicy(msgspec.Struct, forbid_unknown_fields=True):
    required: bool


class TwoFactorController(Controller):
    path = "/v1/account/me/two-factor"
    tags = ["sessions"]  # noqa: RUF012
    guards = [anyone_signed_in]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Start setting up two-factor sign-in: the secret and its QR code",
    )
    def start(self, request: AuthRequest, ctx: Ctx) -> TwoFactorSetupRead:
        setup = ctx.two_factor.start(_user(request))
        return TwoFactorSetupRead(setup.secret, setup.address, setup.qr_svg)

    @post(
        "/confirm",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Turn two-factor sign-in on with a code: the recovery codes, once",
    )
    def confirm(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[CodeCreate]
    ) -> RecoveryCodesRead:
        return RecoveryCodesRead(ctx.two_factor.confirm(_user(request), data.code))

    @post(
        "/disable",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Turn two-factor sign-in off with a code",
    )
    def disable(self, request: AuthRequest, ctx: Ctx, data: JSONBody[CodeCreate]) -> None:
        ctx.two_factor.disable(_user(request), data.code, request.user.actor)


def _user(request: AuthRequest) -> UUID:
    return own_session(request)[0]


class TwoFactorPolicyController(Controller):
    path = "/v1/account/two-factor"
    tags = ["sessions"]  # noqa: RUF012
    guards = [owner_only]  # noqa: RUF012

    @put("/", sync_to_thread=True, summary="Require two-factor sign-in of every user")
    def require(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[TwoFactorPolicy]
    ) -> TwoFactorPolicy:
        ctx.two_factor.require(request.user.customer_account, data.required, request.user.actor)
        return TwoFactorPolicy(data.required)
