"""``/v1/opt-outs``: the account's suppression list. Numbers on it are never sent to; one
leaves it only by ``DELETE`` with a ``reason``, which is recorded with who asked."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth import sender_writes
from api.contacts_support import (
    check_limit,
    encode_cursor,
    hash_cursor,
    opt_out_read,
    services,
)
from api.context import AuthRequest, Ctx
from api.query import Cursor, Limit1000, NumberQuery
from api.schemas.common import LINE_PATTERN
from api.schemas.contacts import OptOutCreate, OptOutRead, OptOutsPage


class OptOutController(Controller):
    path = "/v1/opt-outs"
    tags = ["opt-outs"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Put a number on the opt-out list (200 if it already was)",
    )
    def create(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[OptOutCreate]
    ) -> Response[OptOutRead]:
        row, created = services(ctx).privacy.opt_out(
            request.user.customer_account,
            data.number,
            actor=request.user.actor,
            source="customer",
            now=ctx.now(),
        )
        status = HTTP_201_CREATED if created else HTTP_200_OK
        return Response(opt_out_read(row), status_code=status)

    @get("/", sync_to_thread=True, summary="The opt-out list, oldest first; ?number= finds one")
    def index(
        self,
        request: AuthRequest,
        ctx: Ctx,
        number: NumberQuery = None,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> OptOutsPage:
        rows = services(ctx).privacy.opt_outs_page(
            request.user.customer_account,
            after=hash_cursor(cursor),
            limit=check_limit(limit),
            number=number,
        )
        last = rows[-1] if len(rows) == limit else None
        return OptOutsPage(
            items=[opt_out_read(row) for row in rows],
            next_cursor=encode_cursor(last.created_at, last.number_hash.hex()) if last else None,
        )

    @delete(
        "/{opt_out_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Take a number off the opt-out list (recorded, with the reason given)",
    )
    def remove(
        self,
        request: AuthRequest,
        ctx: Ctx,
        opt_out_id: FromPath[UUID],
        reason: Annotated[str, QueryParameter(min_length=1, max_length=500, pattern=LINE_PATTERN)],
    ) -> None:
        services(ctx).privacy.withdraw(
            request.user.customer_account, opt_out_id, actor=request.user.actor, reason=reason
        )
