"""The account's users in the application ("Benutzer"): who they are, their roles, the open
invitations; the owner invites by e-mail, changes roles, removes users and withdraws
invitations, through ``services.team`` as the API's ``/v1/account/users`` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath

from api.auth import Need
from api.context import Ctx
from api.errors import REFUSALS, ProblemError
from api.web.forms import check_session_form, page, redirect, refusal_of
from api.web.pages import Customer, require_customer
from domain.accounts.user import UserRole

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ROLES = [UserRole.OWNER, UserRole.SENDER, UserRole.FINANCE, UserRole.VIEWER]
USERS = "/app/benutzer"


def role_of(data: dict[str, str], default: UserRole) -> UserRole:
    """The role a form chose; a value that is none of them is refused (422)."""
    try:
        return UserRole(data.get("role", default.value))
    except ValueError:
        raise ProblemError(422, "invalid-role", "Invalid role", "not a role") from None


class TeamPages(Controller):
    path = USERS

    def _page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer,
        error: str | None = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        members = ctx.team.members(customer.account_id)
        return page(request, "users", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, users=members.users,
                    invitations=members.invitations, roles=ROLES, error=error,
                    is_owner=who.principal.access in Need.OWNER.value)  # fmt: skip

    @get("/", sync_to_thread=True)
    def users(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        if who.principal.access not in Need.OWNER.value:  # as /v1/account/users: the owner's
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return self._page(request, ctx, customer)

    def _owner_does(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: dict[str, str],
        action: Callable[[Customer], object],
    ) -> Response[Any]:  # fmt: skip
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        if who.principal.access not in Need.OWNER.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        try:
            action(customer)
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._page(request, ctx, customer, refused.detail, refused.status)
        return redirect(USERS)

    @post("/einladen", sync_to_thread=True, status_code=200)
    def invite(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        def invite(c: Customer) -> object:
            role = role_of(data, UserRole.VIEWER)
            return ctx.team.invite(c.account_id, data.get("email", "").strip(), role,
                                   c.signed_in.principal.actor)  # fmt: skip

        return self._owner_does(request, ctx, data, invite)

    @post("/{user_id:uuid}/rolle", sync_to_thread=True, status_code=200)
    def change_role(
        self, request: Request[Any, Any, Any], ctx: Ctx, user_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        def change(c: Customer) -> object:
            role = role_of(data, UserRole.VIEWER)
            return ctx.team.change_role(c.account_id, user_id, role, c.signed_in.principal.actor)

        return self._owner_does(request, ctx, data, change)

    @post("/{user_id:uuid}/entfernen", sync_to_thread=True, status_code=200)
    def remove(
        self, request: Request[Any, Any, Any], ctx: Ctx, user_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        def remove(c: Customer) -> object:
            ctx.team.remove(c.account_id, user_id, c.signed_in.principal.actor)
            return None

        return self._owner_does(request, ctx, data, remove)

    @post("/einladungen/{invitation_id:uuid}/zurueckziehen", sync_to_thread=True, status_code=200)
    def withdraw(
        self, request: Request[Any, Any, Any], ctx: Ctx, invitation_id: FromPath[UUID],
        data: Form,
    ) -> Response[Any]:  # fmt: skip
        def withdraw(c: Customer) -> object:
            ctx.team.withdraw(c.account_id, invitation_id, c.signed_in.principal.actor)
            return None

        return self._owner_does(request, ctx, data, withdraw)
