"""The operator's send endpoints: release a campaign held for review, ask carriers again about
messages without a final report (query_sm), and the receipts that never matched a message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from adapters.crypto.inbound_keys import PLATFORM_LOOKUP
from adapters.jetstream.payloads import StatusQuery, encoder
from adapters.postgres import stored_events as stored
from api.auth import admin_only
from api.context import ApiContext, AuthRequest, Ctx
from api.history import stored_events
from api.query import Cursor, Limit1000, NumberQuery, TextQuery, check_range
from api.schemas.messages import (
    CampaignRead,
    QueryStatusCreate,
    QueryStatusRead,
    UnmatchedReceiptPage,
    UnmatchedReceiptRead,
)
from api.send_views import campaign_read, keyset_after, keyset_next, local, own_send, parse_number
from domain.personal import REDACTED
from projections import messaging_queries as q


class AdminSendsController(Controller):
    tags = ["admin"]  # noqa: RUF012
    guards = [admin_only]  # noqa: RUF012

    @post(
        "/v1/admin/campaigns/{campaign_id:uuid}/release",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        summary="Release a campaign held above the review threshold",
    )
    def release(self, request: AuthRequest, ctx: Ctx, campaign_id: FromPath[UUID]) -> CampaignRead:
        ctx.backend.messaging.release_review(campaign_id, request.user.actor, ctx.now())
        return campaign_read(ctx, own_send(ctx, request.user, campaign_id), counts=True)

    @post(
        "/v1/admin/messages/query-status",
        status_code=HTTP_200_OK,
        summary="Ask the carrier again (query_sm) about messages without a final report",
    )
    async def query_status(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[QueryStatusCreate]
    ) -> QueryStatusRead:
        rows = q.open_messages(
            ctx.pool,
            send_id=data.send_id,
            account_id=data.account_id,
            older_than=ctx.now() - timedelta(minutes=data.older_than_minutes),
            limit=data.limit,
        )
        js = request.app.state.resources.nats.jetstream
        topology = ctx.topology
        queried = 0
        for row in rows:
            for part, carrier_id in enumerate(row["carrier_ids"], start=1):
                if not carrier_id or not row["route"]:
                    continue
                question = StatusQuery(
                    message_id=row["message_id"],
                    send_id=row["send_id"],
                    account_id=row["account_id"],
                    part=part,
                    carrier_id=carrier_id,
                    sender=row["sender"],
                )
                await js.publish(topology.query_subject(row["route"]), encoder.encode(question))
                queried += 1
        return QueryStatusRead(queried)

    @get(
        "/v1/admin/receipts/unmatched",
        sync_to_thread=True,
        summary="Delivery reports that never matched a sent message (kept for support)",
    )
    def unmatched_receipts(
        self,
        ctx: Ctx,
        number: NumberQuery = None,
        carrier_id: TextQuery = None,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> UnmatchedReceiptPage:
        return unmatched_page(ctx, number, carrier_id, from_, to, cursor, limit)


def unmatched_page(
    ctx: ApiContext,
    number: str | None,
    carrier_id: str | None,
    from_: datetime | None,
    to: datetime | None,
    cursor: str | None,
    limit: int,
) -> UnmatchedReceiptPage:
    """Receipts that matched no message, oldest first, with the handset's number opened from
    their events: for the endpoint and the staff console's page."""
    check_range(from_, to)
    number_hash = (
        ctx.backend.keyring.lookup_hash(PLATFORM_LOOKUP, parse_number(ctx, number))
        if number
        else None
    )
    after = keyset_after(cursor)
    rows = q.unmatched_receipts(
        ctx.pool,
        number_hash=number_hash,
        carrier_id=carrier_id,
        start=local(from_),
        end=local(to),
        after=after,
        limit=limit,
    )
    numbers = handsets(
        ctx, sorted({int(r["notification_id"]) for r in rows}), {r["receipt_id"] for r in rows}
    )
    reads = [
        UnmatchedReceiptRead(
            receipt_id=r["receipt_id"],
            carrier=r["carrier"],
            carrier_id=r["carrier_id"],
            state=r["state"],
            status_text=r["status_text"],
            error_code=r["error_code"],
            final=r["final"],
            done_at=r["done_at"],
            received_at=r["received_at"],
            number=numbers.get(r["receipt_id"], REDACTED),
            deliveries=r["deliveries"],
        )
        for r in rows
    ]
    next_cursor = keyset_next(rows, limit, "received_at", "receipt_id")
    return UnmatchedReceiptPage(reads, next_cursor)


def handsets(
    ctx: ApiContext, notification_ids: list[int], receipt_ids: set[UUID]
) -> dict[UUID, str]:
    """The numbers these receipts name, opened from their events (redacted once erased); the
    other receipts of those events stay sealed."""
    receipts = [
        receipt
        for event in stored_events(ctx, notification_ids)
        if isinstance(event, stored.UnmatchedReceiptsRecorded)
        for receipt in event.receipts
        if receipt.receipt_id in receipt_ids
    ]
    keyring = ctx.backend.keyring
    keyring.prefetch([UUID(r.number.k) for r in receipts])  # one round trip for a page's keys
    return {r.receipt_id: r.number.opened(keyring).shown() for r in receipts}
