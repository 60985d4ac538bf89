"""Access to the account in the application ("Zugang"): the owner's API keys (made here and
shown once, revoked here; their prefixes listed, never the keys) and the user's own sessions,
each of which can be ended. The same functions as ``/v1/account/api-keys`` and
``/v1/sessions``."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from api.accounts import create_key, live_keys, revoke_key
from api.auth import Need
from api.context import Ctx
from api.errors import ProblemError
from api.schemas.accounts import ApiKeyRead
from api.web.forms import check_session_form, done_or_refused, page, redirect, refusal_of
from api.web.pages import Customer, require_customer
from api.web.team import ROLES, role_of
from domain.accounts.user import UserRole

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ACCESS = "/app/zugang"
MAX_LABEL = 100


class AccessPages(Controller):
    path = ACCESS

    def _page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, *,
        new_key: ApiKeyRead | None = None, error: str | None = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        owner = who.principal.access in Need.OWNER.value
        return page(request, "access", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, is_owner=owner, new_key=new_key, error=error,
                    keys=live_keys(ctx, customer.account_id) if owner else [], roles=ROLES,
                    sessions=list(ctx.signin.sessions_of(who.session.user_id)))  # fmt: skip

    @get("/", sync_to_thread=True)
    def access(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        return self._page(request, ctx, require_customer(request, ctx))

    def _owner(self, request: Request[Any, Any, Any], ctx: Ctx, data: dict[str, str]) -> Customer:
        customer = require_customer(request, ctx)
        check_session_form(data, customer.signed_in)
        return customer

    @post("/schluessel", sync_to_thread=True, status_code=201)
    def new_key(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        who = customer.signed_in
        if who.principal.access not in Need.OWNER.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        label = data.get("label", "").strip()[:MAX_LABEL]
        try:
            role = role_of(data, UserRole.OWNER)
        except ProblemError as exc:
            refused = refusal_of(exc)
            return self._page(request, ctx, customer, error=refused.detail,
                              status_code=refused.status)  # fmt: skip
        key = create_key(ctx, customer.account_id, label, role)
        return self._page(request, ctx, customer, new_key=key, status_code=201)

    @post("/schluessel/{key_id:uuid}/widerrufen", sync_to_thread=True, status_code=200)
    def revoke(
        self, request: Request[Any, Any, Any], ctx: Ctx, key_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        who = customer.signed_in
        if who.principal.access not in Need.OWNER.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return done_or_refused(
            lambda: revoke_key(ctx, customer.account_id, key_id, who.principal.actor),
            lambda refused: self._page(request, ctx, customer, error=refused.detail,
                                       status_code=refused.status), ACCESS)  # fmt: skip

    @post("/sitzungen/{session_id:uuid}/beenden", sync_to_thread=True, status_code=200)
    def end_session(
        self, request: Request[Any, Any, Any], ctx: Ctx, session_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = self._owner(request, ctx, data)
        who = customer.signed_in
        ctx.signin.sign_out(session_id, who.session.user_id)  # only the user's own
        if session_id == who.session.session_id:
            return redirect("/anmelden")
        return redirect(ACCESS)
