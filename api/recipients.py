"""``/v1/lists/{list_id}/recipients``: adding, finding, paging, editing and removing
recipients of one of the caller's lists."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, PathParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth import sender_writes
from api.contacts_support import check_limit, id_cursor, recipient_read, services
from api.context import AuthRequest, Ctx
from api.errors import ProblemError
from api.query import Cursor, Limit1000, NumberQuery
from api.schemas.contacts import (
    PastedRejection,
    RecipientRead,
    RecipientsAdd,
    RecipientsAdded,
    RecipientsPage,
    RecipientUpdate,
)

RecipientId = Annotated[int, PathParameter(ge=1, le=2**53 - 1)]
"""A recipient's id: a bigint, at most 2^53 - 1 so that the document's bound is exact in every
JSON reader (2^63 - 1 reads as 2^63 in a double)."""


class RecipientController(Controller):
    path = "/v1/lists/{list_id:uuid}/recipients"
    tags = ["lists"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Add recipients (numbers already in the list are merged, never doubled)",
    )
    def add(
        self,
        request: AuthRequest,
        ctx: Ctx,
        list_id: FromPath[UUID],
        data: JSONBody[RecipientsAdd],
    ) -> RecipientsAdded:
        lists = services(ctx).lists
        account_id = request.user.customer_account
        if bool(data.recipients) == (data.pasted is not None):
            raise ProblemError(
                422,
                "invalid-recipients",
                "Invalid recipients",
                "give either recipients or pasted text",
            )
        if data.pasted is not None:
            pasted = lists.paste(account_id, list_id, data.pasted, ctx.now())
            return RecipientsAdded(
                added=pasted.added,
                merged=pasted.merged,
                ids=[],
                rejected=[PastedRejection(line, reason) for line, reason in pasted.rejected],
            )
        result = lists.add(
            account_id, list_id, [(r.number, r.fields) for r in data.recipients], ctx.now()
        )
        return RecipientsAdded(
            added=result.added, merged=result.merged, ids=result.ids, rejected=[]
        )

    @get("/", sync_to_thread=True, summary="Recipients in list order, paged; ?number= finds one")
    def index(
        self,
        request: AuthRequest,
        ctx: Ctx,
        list_id: FromPath[UUID],
        number: NumberQuery = None,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> RecipientsPage:
        found = services(ctx).lists.recipients_page(
            request.user.customer_account,
            list_id,
            after=id_cursor(cursor),
            limit=check_limit(limit),
            number=number,
        )
        return RecipientsPage(
            items=[recipient_read(r) for r in found],
            next_cursor=str(found[-1].id) if len(found) == limit else None,
        )

    @get("/{recipient_id:int}", sync_to_thread=True, summary="One recipient")
    def read(
        self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID], recipient_id: RecipientId
    ) -> RecipientRead:
        return recipient_read(
            services(ctx).lists.recipient(request.user.customer_account, list_id, recipient_id)
        )

    @patch("/{recipient_id:int}", sync_to_thread=True, summary="Change number or fields")
    def update(
        self,
        request: AuthRequest,
        ctx: Ctx,
        list_id: FromPath[UUID],
        recipient_id: RecipientId,
        data: JSONBody[RecipientUpdate],
    ) -> RecipientRead:
        updated = services(ctx).lists.update_recipient(
            request.user.customer_account,
            list_id,
            recipient_id,
            number=None if data.number is msgspec.UNSET else data.number,
            fields=None if data.fields is msgspec.UNSET else data.fields,
            now=ctx.now(),
        )
        return recipient_read(updated)

    @delete(
        "/{recipient_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Remove a recipient from the list",
    )
    def remove(
        self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID], recipient_id: RecipientId
    ) -> None:
        services(ctx).lists.remove_recipient(
            request.user.customer_account, list_id, recipient_id, ctx.now()
        )
