"""``POST /v1/privacy/erasures``: erase one person (by number) from the account (GDPR Art. 17):
every list, import reports, their message history's personal data (crypto-shredding); if they
had opted out, they stay suppressed by keyed hash."""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from api.auth import owner_writes
from api.contacts_support import services
from api.context import AuthRequest, Ctx
from api.schemas.contacts import ErasureCreate, ErasureRead


class PrivacyController(Controller):
    path = "/v1/privacy"
    tags = ["privacy"]  # noqa: RUF012
    guards = [owner_writes]  # noqa: RUF012

    @post(
        "/erasures",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Erase one person's data from the account",
    )
    def erase(self, request: AuthRequest, ctx: Ctx, data: JSONBody[ErasureCreate]) -> ErasureRead:
        result = services(ctx).privacy.erase(
            request.user.customer_account, data.number, actor=request.user.actor
        )
        return ErasureRead(
            id=result.id,
            lists=result.lists,
            opted_out=result.opted_out,
            key_shredded=result.key_shredded,
        )
