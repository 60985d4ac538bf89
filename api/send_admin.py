"""The operator's send endpoints: release a campaign held for review, ask carriers again about
messages without a final report (query_sm)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from litestar import Controller, Request, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from adapters.payloads import StatusQuery, encoder
from api.auth import admin_only
from api.context import AuthRequest, Ctx
from api.schemas.messages import CampaignRead, QueryStatusCreate, QueryStatusRead
from api.send_views import campaign_read, own_send
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
        ctx.backend.messaging.release_review(campaign_id, request.user.actor)
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
