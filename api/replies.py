"""``/v1/replies``: the replies (MO) to the account's messages, matched by
``services.replies``: found by campaign, message, number and time, paged, one by one, and
marked read. The reply's text and number are opened from the event the ingest recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.status_codes import HTTP_200_OK

from adapters.crypto.inbound_keys import PLATFORM_LOOKUP
from api.auth import Need, for_customers
from api.context import ApiContext, AuthRequest, Ctx
from api.errors import ProblemError
from api.history import opened_replies
from api.query import Cursor, Limit1000, NumberQuery, check_range
from api.schemas.replies import ReplyPage, ReplyRead
from api.send_views import keyset_after, keyset_next, local, parse_number
from domain.personal import REDACTED
from projections import replies as q

anyone_of_the_account = for_customers(Need.READ, Need.READ)
"""Every role of the account reads its replies and marks them read (what a person has seen)."""


def reply_reads(ctx: ApiContext, rows: list[dict[str, Any]]) -> list[ReplyRead]:
    """The rows with their texts and numbers, opened from their events."""
    opened = opened_replies(ctx, rows)
    reads = []
    for row in rows:
        number, text = opened.get(row["reply_id"], (None, REDACTED))
        reads.append(ReplyRead(
            reply_id=row["reply_id"], received_at=row["received_at"],
            number=REDACTED if number is None else "00" + number.removeprefix("+"),
            text=text, to=row["recipient"], message_id=row["message_id"],
            send_id=row["send_id"], rule=row["rule"], stop=row["stop"],
            read=row["read_at"] is not None, incomplete=row["incomplete"],
        ))  # fmt: skip
    return reads


def replies_page(
    ctx: ApiContext, account_id: UUID, *, campaign_id: UUID | None = None,
    message_id: UUID | None = None, number: str | None = None, from_: datetime | None = None,
    to: datetime | None = None, cursor: str | None = None, limit: int = 100,
) -> ReplyPage:  # fmt: skip
    """The account's replies, newest first: for the endpoint and the application's page."""
    check_range(from_, to)
    sender_hash = None
    if number:
        sender_hash = ctx.backend.keyring.lookup_hash(PLATFORM_LOOKUP, parse_number(ctx, number))
    rows = q.page(ctx.pool, account_id, send_id=campaign_id, message_id=message_id,
                  sender_hash=sender_hash, start=local(from_), end=local(to),
                  after=keyset_after(cursor), limit=limit)  # fmt: skip
    return ReplyPage(reply_reads(ctx, rows), keyset_next(rows, limit, "received_at", "reply_id"))


def own_reply(ctx: ApiContext, account_id: UUID, reply_id: UUID) -> dict[str, Any]:
    row = q.one(ctx.pool, reply_id)
    if row is None or row["account_id"] != account_id:
        raise ProblemError(404, "reply-not-found", "Reply not found", "no such reply")
    return row


class ReplyController(Controller):
    path = "/v1/replies"
    tags = ["replies"]  # noqa: RUF012
    guards = [anyone_of_the_account]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Replies to the account's messages, newest first")
    def index(
        self,
        request: AuthRequest,
        ctx: Ctx,
        campaign_id: FromQuery[UUID | None] = None,
        message_id: FromQuery[UUID | None] = None,
        number: NumberQuery = None,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> ReplyPage:
        return replies_page(ctx, request.user.customer_account, campaign_id=campaign_id,
                            message_id=message_id, number=number, from_=from_, to=to,
                            cursor=cursor, limit=limit)  # fmt: skip

    @get("/{reply_id:uuid}", sync_to_thread=True, summary="One reply")
    def read(self, request: AuthRequest, ctx: Ctx, reply_id: FromPath[UUID]) -> ReplyRead:
        row = own_reply(ctx, request.user.customer_account, reply_id)
        return reply_reads(ctx, [row])[0]

    @post("/{reply_id:uuid}/read", status_code=HTTP_200_OK, sync_to_thread=True,
          summary="Mark a reply read")  # fmt: skip
    def mark_read(self, request: AuthRequest, ctx: Ctx, reply_id: FromPath[UUID]) -> ReplyRead:
        account_id = request.user.customer_account
        own_reply(ctx, account_id, reply_id)
        q.mark_read(ctx.pool, reply_id, account_id, ctx.now())
        return reply_reads(ctx, [own_reply(ctx, account_id, reply_id)])[0]
