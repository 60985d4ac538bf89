"""Replies in the application ("Antworten"): the replies to the account's messages, newest
first, found by number or by the send they answer, each with the message it answers, marked
when it was a STOP (the number is then on the opt-out list), and marked read; every role of
the account reads them, as in ``/v1/replies``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from api.context import Ctx
from api.errors import REFUSALS
from api.replies import own_reply, replies_page
from api.web.forms import check_session_form, page, redirect, refusal_of
from api.web.pages import require_customer
from projections import replies as q

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
REPLIES = "/app/antworten"
PER_PAGE = 50


class ReplyPages(Controller):
    path = REPLIES

    @get("/", sync_to_thread=True)
    def replies(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        number: Annotated[str | None, QueryParameter(name="nummer", max_length=64)] = None,
        send_id: Annotated[UUID | None, QueryParameter(name="auftrag")] = None,
        after: Annotated[str | None, QueryParameter(name="nach", max_length=200)] = None,
    ) -> Response[Any]:  # fmt: skip
        customer = require_customer(request, ctx)
        who = customer.signed_in
        number = (number or "").strip() or None
        error, status = None, 200
        try:
            found = replies_page(ctx, customer.account_id, campaign_id=send_id, number=number,
                                 cursor=after, limit=PER_PAGE)  # fmt: skip
            replies, more = found.items, found.next_cursor
        except REFUSALS as exc:
            refused = refusal_of(exc)
            replies, more, error, status = [], None, refused.detail, refused.status
        kept = {k: str(v) for k, v in (("nummer", number), ("auftrag", send_id)) if v}
        more_query = urlencode(kept | {"nach": more}) if more else None
        return page(request, "replies", status_code=status, who=who, csrf=who.session.csrf_token,
                    replies=replies, more_query=more_query, error=error, searched=number or "",
                    send_id=send_id)  # fmt: skip

    @post("/{reply_id:uuid}/gelesen", sync_to_thread=True, status_code=200)
    def mark_read(
        self, request: Request[Any, Any, Any], ctx: Ctx, reply_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        try:
            own_reply(ctx, customer.account_id, reply_id)
        except REFUSALS as exc:
            refusal_of(exc, only=404)
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        q.mark_read(ctx.pool, reply_id, customer.account_id, ctx.now())
        return redirect(REPLIES)
