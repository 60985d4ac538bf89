"""``/v1/messages``: single sends (the transactional lane), message search and a message's whole
history; ``/v1/campaigns``: bulk sends, their progress, messages and cancellation."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from adapters.jetstream.outbox import publish_now
from api import list_campaigns as accepting
from api.auth import Principal, customer_or_operator, sender_writes
from api.context import ApiContext, AuthRequest, Ctx
from api.errors import ProblemError
from api.history import message_detail, message_row, recorded_messages
from api.query import Cursor, Limit500, Limit1000, NumberQuery, StateFilter, check_range
from api.schemas.common import MAX_COUNT
from api.schemas.messages import (
    CampaignAccepted,
    CampaignCreate,
    CampaignPage,
    CampaignRead,
    CancellationRead,
    MessageCreate,
    MessageDetail,
    MessagePage,
    MessageSummary,
    RecipientIn,
    SendRead,
    SkippedRead,
)
from api.send_views import (
    campaign_read,
    keyset_after,
    keyset_next,
    local,
    message_row_seen,
    own_send,
    parse_number,
    scope_account,
)
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.records import Lane, RecordedMessage
from domain.pricing.preview import Recipient
from projections import messaging_queries as q
from services.acceptance import SendRequest

IdempotencyKey = Annotated[
    str | None, HeaderParameter(name="Idempotency-Key", required=False, max_length=200)
]


def display(e164: str) -> str:
    return "00" + e164[1:] if e164.startswith("+") else e164


def summary(m: RecordedMessage) -> MessageSummary:
    return MessageSummary(m.message_id, display(m.number.shown()), m.parts, m.price, m.encoding)


def recipients_of(items: list[str | RecipientIn]) -> list[Recipient]:
    return [
        Recipient(item) if isinstance(item, str) else Recipient(item.number, item.fields)
        for item in items
    ]


class MessagesController(Controller):
    path = "/v1/messages"
    tags = ["messages"]  # noqa: RUF012

    @post("/", sync_to_thread=True, guards=[sender_writes], summary="Send one message now or later")
    def send(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[MessageCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[SendRead]:
        accepted = ctx.acceptance.accept(
            SendRequest(
                account_id=request.user.customer_account,
                lane=Lane.TRANSACTIONAL,
                text=data.text,
                sender=data.sender,
                recipients=recipients_of(data.to),
                tariff=data.tariff,
                schedule_at=local(data.send_at),
                normalize=data.normalize,
                idempotency_key=idempotency_key,
                keep_repeats=data.keep_repeats,
            ),
            ctx.now(),
        )
        send = accepted.send
        messages = accepted.messages or recorded_messages(ctx, send.id)
        body = SendRead(
            send_id=send.id,
            state=send.state.value,
            messages=[summary(m) for m in messages],
            skipped=[SkippedRead(s.position, s.reason, s.detail) for s in accepted.skipped],
            total_price=send.expected_cost,
            send_at=send.schedule_at,
            repeated=accepted.repeated,
        )
        # The messages are recorded: publish them as soon as the answer is out, rather than when
        # the outbox relay sees them (it still does; JetStream drops the second copy).
        publish = None
        if accepted.recorded_chunks:
            publish = BackgroundTask(
                publish_now,
                request.app.state.resources.nats,
                ctx.topology,
                accepted.recorded_chunks,
            )
        return Response(
            body,
            status_code=HTTP_200_OK if accepted.repeated else HTTP_201_CREATED,
            background=publish,
        )

    @get("/", sync_to_thread=True, guards=[customer_or_operator], summary="Find messages")
    def search(
        self,
        request: AuthRequest,
        ctx: Ctx,
        number: NumberQuery = None,
        from_: Annotated[datetime | None, QueryParameter(name="from")] = None,
        to: FromQuery[datetime | None] = None,
        state_: StateFilter = None,
        account_id: FromQuery[UUID | None] = None,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> MessagePage:
        check_range(from_, to)
        account = scope_account(request.user, account_id)
        number_hash = None
        if number:
            if account is None:
                raise ProblemError(
                    422,
                    "account-required",
                    "Account required",
                    "searching by number needs account_id",
                )
            number_hash = ctx.backend.keyring.lookup_hash(account, parse_number(ctx, number))
        after = keyset_after(cursor)
        rows = q.search(
            ctx.pool, account, number_hash, local(from_), local(to), state_, after, limit
        )
        next_cursor = keyset_next(rows, limit, "recorded_at", "message_id")
        return MessagePage([message_row(r) for r in rows], next_cursor)

    @get(
        "/{message_id:uuid}",
        sync_to_thread=True,
        guards=[customer_or_operator],
        summary="A message: state, parts, price, carrier ids and its whole history",
    )
    def detail(self, request: AuthRequest, ctx: Ctx, message_id: FromPath[UUID]) -> MessageDetail:
        return message_detail(ctx, message_row_seen(ctx, request.user, message_id))


class CampaignsController(Controller):
    path = "/v1/campaigns"
    tags = ["campaigns"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
        summary="Accept a bulk send (202 at once)",
    )
    def create(
        self,
        request: AuthRequest,
        ctx: Ctx,
        data: JSONBody[CampaignCreate],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CampaignAccepted]:
        account = request.user.customer_account
        if (data.list_id is None) == (data.recipients is None):
            raise ProblemError(
                422,
                "recipients-required",
                "Recipients required",
                "give either list_id or recipients",
            )
        send_request = SendRequest(
            account_id=account,
            lane=Lane.BULK,
            text=data.text,
            sender=data.sender,
            recipients=recipients_of(list(data.recipients or ())),
            tariff=data.tariff,
            schedule_at=local(data.send_at),
            normalize=data.normalize,
            idempotency_key=idempotency_key,
            name=data.name,
            list_id=data.list_id,
            keep_repeats=data.keep_repeats,
        )
        if data.list_id is not None:
            # Accepted in the background, whatever the list's size (services.list_acceptance).
            begun, repeated = accepting.begin(ctx, send_request)
            return Response(begun, status_code=HTTP_200_OK if repeated else HTTP_202_ACCEPTED)
        accepted = ctx.acceptance.accept(send_request, ctx.now())
        body = accepting.send_accepted(accepted.send, repeated=accepted.repeated)
        return Response(body, status_code=HTTP_200_OK if accepted.repeated else HTTP_202_ACCEPTED)

    @get("/", sync_to_thread=True, summary="The account's campaigns, newest first")
    def list_campaigns(
        self,
        request: AuthRequest,
        ctx: Ctx,
        cursor: FromQuery[datetime | None] = None,
        limit: Limit500 = 50,
    ) -> CampaignPage:
        account = request.user.customer_account
        rows = q.sends(ctx.pool, account, "bulk", cursor, limit)
        reads = [campaign_read(ctx, row, counts=False) for row in rows]
        if cursor is None:  # being accepted, or refused: not sends (yet), newest on top
            reads = accepting.unaccepted_reads(ctx, account) + reads
        next_cursor = rows[-1]["created_at"].isoformat() if len(rows) == limit else None
        return CampaignPage(reads, next_cursor)

    @get("/{campaign_id:uuid}", sync_to_thread=True, summary="Progress, cost so far, ETA")
    def read(self, request: AuthRequest, ctx: Ctx, campaign_id: FromPath[UUID]) -> CampaignRead:
        account = request.user.customer_account
        try:
            row = own_send(ctx, request.user, campaign_id)
        except SendNotFoundError:
            return accepting.job_campaign_read(accepting.own_job(ctx, account, campaign_id))
        read = campaign_read(ctx, row, counts=True)
        with contextlib.suppress(SendNotFoundError):  # a list campaign: how it was accepted
            job = accepting.own_job(ctx, account, campaign_id)
            read.acceptance = accepting.acceptance_read(job)
        return read

    @get("/{campaign_id:uuid}/messages", sync_to_thread=True, summary="Messages, by state")
    def messages(
        self,
        request: AuthRequest,
        ctx: Ctx,
        campaign_id: FromPath[UUID],
        state_: StateFilter = None,
        cursor: Annotated[int, QueryParameter(ge=-1, le=MAX_COUNT)] = -1,
        limit: Limit1000 = 100,
    ) -> MessagePage:
        try:
            own_send(ctx, request.user, campaign_id)
        except SendNotFoundError:  # still being accepted: no messages yet
            accepting.own_job(ctx, request.user.customer_account, campaign_id)
            return MessagePage([], None)
        rows = q.messages_of_send(ctx.pool, campaign_id, state_, cursor, limit)
        next_cursor = str(rows[-1]["idx"]) if len(rows) == limit else None
        return MessagePage([message_row(r) for r in rows], next_cursor)

    @post(
        "/{campaign_id:uuid}/cancel",
        status_code=HTTP_200_OK,
        sync_to_thread=True,
        summary="Cancel: nothing more is sent, unsent messages are released",
    )
    def cancel(self, request: AuthRequest, ctx: Ctx, campaign_id: FromPath[UUID]) -> CampaignRead:
        return cancel_send(ctx, request.user, campaign_id)


def cancel_send(ctx: ApiContext, principal: Principal, send_id: UUID) -> CampaignRead:
    """Cancel the customer's send (``services.cancellation``), or the list campaign still
    being accepted: for the endpoint and the application's send page."""
    try:
        row = own_send(ctx, principal, send_id)
    except SendNotFoundError:  # still being accepted: the job is cancelled
        return accepting.cancel(ctx, principal.customer_account, send_id)
    send, outcome = ctx.cancellation.cancel(
        send_id, principal.customer_account, principal.actor, "cancelled by customer"
    )
    # The read model has not seen the cancellation yet: show the state just recorded.
    read = campaign_read(ctx, row | {"state": send.state.value}, counts=True)
    read.cancellation = CancellationRead(
        outcome.stopped, outcome.sent, outcome.in_flight, outcome.rejected
    )
    return read
