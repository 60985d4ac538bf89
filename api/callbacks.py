"""``/v1/callbacks``: where the account's replies and status changes are posted and mailed,
its webhook signing secret (rotated with a day's overlap), and every callback with each of
its attempts, redelivered on request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED

from adapters.postgres.callbacks import PostgresCallbacks
from api.auth import owner_writes
from api.context import ApiContext, AuthRequest, Ctx
from api.errors import ProblemError
from api.schemas.callbacks import (
    AttemptRead,
    CallbacksRead,
    CallbacksUpdate,
    DeliveryPage,
    DeliveryRead,
    SecretRead,
)
from domain.accounts.account import Account

State = Literal["pending", "delivered", "failed", "dropped"]


def callbacks_read(account: Account) -> CallbacksRead:
    callbacks = account.callbacks
    previous = account.webhook_secrets[1:] if account.webhook_secrets else ()
    return CallbacksRead(
        reply_url=callbacks.reply_url, reply_emails=callbacks.emails,
        status_url=callbacks.status_url, status_every_state=callbacks.status_every_state,
        secret_set=bool(account.webhook_secrets),
        previous_secret_retires_at=previous[0].retires_at if previous else None,
    )  # fmt: skip


def store(ctx: ApiContext) -> PostgresCallbacks:
    return PostgresCallbacks(ctx.pool, ctx.backend.keyring)


def delivery_read(row: dict[str, Any]) -> DeliveryRead:
    return DeliveryRead(
        delivery_id=row["delivery_id"], event_type=row["event_type"],
        subject_id=row["subject_id"], url=row["url"], state=row["state"],
        attempts=row["attempts"], created_at=row["created_at"],
        next_at=row["next_at"] if row["state"] == "pending" else None,
        finished_at=row["finished_at"],
        attempt_log=[AttemptRead(**a) for a in row.get("attempt_log", [])],
    )  # fmt: skip


class CallbackController(Controller):
    path = "/v1/callbacks"
    tags = ["callbacks"]  # noqa: RUF012
    guards = [owner_writes]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Where replies and status changes are forwarded")
    def show(self, request: AuthRequest, ctx: Ctx) -> CallbacksRead:
        return callbacks_read(ctx.backend.accounts.account(request.user.customer_account))

    @put("/", sync_to_thread=True, summary="Set the webhook URLs and forwarding addresses")
    def change(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[CallbacksUpdate]
    ) -> CallbacksRead:
        account = ctx.backend.accounts.change_callbacks(
            request.user.customer_account, reply_url=data.reply_url,
            reply_emails=data.reply_emails, status_url=data.status_url,
            status_every_state=data.status_every_state, actor=request.user.actor,
        )  # fmt: skip
        return callbacks_read(account)

    @post("/secret", status_code=HTTP_201_CREATED, sync_to_thread=True,
          summary="A new signing secret (the previous one signs for another day)")  # fmt: skip
    def rotate(self, request: AuthRequest, ctx: Ctx) -> SecretRead:
        account, secret = ctx.backend.accounts.rotate_webhook_secret(
            request.user.customer_account, ctx.now(), request.user.actor
        )
        return SecretRead(secret, callbacks_read(account).previous_secret_retires_at)

    @get("/deliveries", sync_to_thread=True, summary="Callbacks, newest first")
    def deliveries(
        self,
        request: AuthRequest,
        ctx: Ctx,
        state_: Annotated[State | None, QueryParameter(name="state")] = None,
        before: FromQuery[datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> DeliveryPage:
        rows = store(ctx).page(request.user.customer_account, state=state_, before=before,
                               limit=limit)  # fmt: skip
        more = rows[-1]["created_at"] if len(rows) == limit else None
        return DeliveryPage([delivery_read(r) for r in rows], more)

    @get("/deliveries/{delivery_id:uuid}", sync_to_thread=True,
         summary="One callback with every attempt")  # fmt: skip
    def delivery(self, request: AuthRequest, ctx: Ctx, delivery_id: FromPath[UUID]) -> DeliveryRead:
        row = store(ctx).one(request.user.customer_account, delivery_id)
        if row is None:
            raise ProblemError(404, "callback-not-found", "Callback not found", "no such callback")
        return delivery_read(row)

    @post("/deliveries/{delivery_id:uuid}/redeliver", status_code=HTTP_202_ACCEPTED,
          sync_to_thread=True, summary="Post a callback again now")  # fmt: skip
    def redeliver(
        self, request: AuthRequest, ctx: Ctx, delivery_id: FromPath[UUID]
    ) -> DeliveryRead:
        account_id = request.user.customer_account
        if not store(ctx).redeliver(account_id, delivery_id, ctx.now()):
            raise ProblemError(404, "callback-not-found", "Callback not found",
                               "no such callback, or its person's data was erased")  # fmt: skip
        row = store(ctx).one(account_id, delivery_id)
        assert row is not None
        return delivery_read(row)
