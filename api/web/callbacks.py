"""Forwarding in the application ("Weiterleitung"): where replies and status changes are
posted and mailed, the webhook signing secret (shown once when made), and every callback with
its attempts, redelivered on request. The account service and the outbox the API's
``/v1/callbacks`` uses, with its roles: every role reads, the owner changes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from api.auth import Need
from api.callbacks import callbacks_read, delivery_read, store
from api.context import Ctx
from api.errors import ProblemError
from api.web.forms import check_session_form, done_or_refused, page, redirect
from api.web.pages import Customer, require_customer

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
FORWARDING = "/app/weiterleitung"
SHOWN = 50


class CallbackPages(Controller):
    path = FORWARDING

    @get("/", sync_to_thread=True)
    def forwarding(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        return self._page(request, ctx, require_customer(request, ctx))

    def _page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, *,
        error: str | None = None, secret: str | None = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        account = ctx.backend.accounts.account(customer.account_id)
        rows = store(ctx).page(customer.account_id, state=None, before=None, limit=SHOWN)
        return page(request, "callbacks", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, callbacks=callbacks_read(account),
                    deliveries=[delivery_read(r) for r in rows], error=error, secret=secret,
                    may_write=who.principal.access in Need.OWNER.value)  # fmt: skip

    def _owner(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: dict[str, str]
    ) -> Customer | Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        if who.principal.access not in Need.OWNER.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return customer

    @post("/", sync_to_thread=True, status_code=200)
    def change(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        if isinstance(customer, Response):
            return customer
        emails = data.get("reply_emails", "").replace(";", ",").replace("\n", ",").split(",")
        return done_or_refused(
            lambda: ctx.backend.accounts.change_callbacks(
                customer.account_id, reply_url=data.get("reply_url") or None,
                reply_emails=emails, status_url=data.get("status_url") or None,
                status_every_state=data.get("status_every_state") == "yes",
                actor=customer.signed_in.principal.actor),
            lambda refused: self._page(request, ctx, customer, error=refused.detail,
                                       status_code=refused.status),
            FORWARDING)  # fmt: skip

    @post("/geheimnis", sync_to_thread=True, status_code=200)
    def rotate(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        if isinstance(customer, Response):
            return customer
        _, secret = ctx.backend.accounts.rotate_webhook_secret(
            customer.account_id, ctx.now(), customer.signed_in.principal.actor
        )
        return self._page(request, ctx, customer, secret=secret)

    @get("/{delivery_id:uuid}", sync_to_thread=True)
    def delivery(
        self, request: Request[Any, Any, Any], ctx: Ctx, delivery_id: FromPath[UUID]
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        row = store(ctx).one(customer.account_id, delivery_id)
        if row is None:
            raise ProblemError(404, "callback-not-found", "Callback not found", "no such callback")
        return page(request, "callback", who=who, csrf=who.session.csrf_token,
                    delivery=delivery_read(row),
                    may_write=who.principal.access in Need.OWNER.value)  # fmt: skip

    @post("/{delivery_id:uuid}/erneut", sync_to_thread=True, status_code=200)
    def redeliver(
        self, request: Request[Any, Any, Any], ctx: Ctx, delivery_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        if isinstance(customer, Response):
            return customer
        if not store(ctx).redeliver(customer.account_id, delivery_id, ctx.now()):
            raise ProblemError(404, "callback-not-found", "Callback not found", "no such callback")
        return redirect(f"{FORWARDING}/{delivery_id}")
