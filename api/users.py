"""``/v1/account/users``: the owner's view of the account's users and invitations
(``services.team``), and ``POST /v1/invitations/accept`` for the invitee."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from api.auth import operator_or_support, owner_only
from api.context import AuthRequest, Ctx
from api.schemas import common
from api.sessions import require_json
from domain.accounts.team import Invitation
from domain.accounts.user import User, UserRole, UserState
from projections.messaging_queries import SendsActedOnByHand
from services.account_history import AccountHistory, Entry


class UserRead(msgspec.Struct):
    user_id: UUID
    username: str
    email: str
    role: UserRole
    state: UserState
    locked: bool
    last_sign_in_at: datetime | None


class InvitationRead(msgspec.Struct):
    invitation_id: UUID
    email: str
    role: UserRole
    expires_at: datetime


class MembersRead(msgspec.Struct):
    users: list[UserRead]
    invitations: list[InvitationRead]


class InvitationCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, common.line(254, 3)]
    role: Annotated[UserRole, msgspec.Meta(description="owner, sender, finance or viewer")]


class RoleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    role: UserRole


class InvitationAccept(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, common.line(200, 1)]
    username: Annotated[str, common.line(40, 3)]
    password: Annotated[str, common.line(256, 1)]


class JoinedRead(msgspec.Struct):
    user_id: UUID
    username: str
    role: UserRole
    account_id: UUID | None


def user_read(user: User) -> UserRead:
    return UserRead(
        user.id, user.username, user.email.shown(), user.role, user.state, user.locked,
        user.last_sign_in_at,
    )  # fmt: skip


def invitation_read(invitation: Invitation) -> InvitationRead:
    return InvitationRead(
        invitation.id, invitation.email.shown(), invitation.role, invitation.expires_at
    )


class UsersController(Controller):
    path = "/v1/account/users"
    tags = ["users"]  # noqa: RUF012
    guards = [owner_only]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="The account's users and open invitations")
    def members(self, request: AuthRequest, ctx: Ctx) -> MembersRead:
        found = ctx.team.members(request.user.customer_account)
        return MembersRead(
            [user_read(u) for u in found.users], [invitation_read(i) for i in found.invitations]
        )

    @post(
        "/invitations",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        summary="Invite someone by e-mail with a role",
    )
    def invite(
        self, request: AuthRequest, ctx: Ctx, data: JSONBody[InvitationCreate]
    ) -> InvitationRead:
        invitation = ctx.team.invite(
            request.user.customer_account, data.email, data.role, request.user.actor
        )
        return invitation_read(invitation)

    @delete(
        "/invitations/{invitation_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Withdraw an invitation",
    )
    def withdraw(self, request: AuthRequest, ctx: Ctx, invitation_id: FromPath[UUID]) -> None:
        ctx.team.withdraw(request.user.customer_account, invitation_id, request.user.actor)

    @patch("/{user_id:uuid}", sync_to_thread=True, summary="Change a user's role")
    def change_role(
        self, request: AuthRequest, ctx: Ctx, user_id: FromPath[UUID], data: JSONBody[RoleUpdate]
    ) -> UserRead:
        user = ctx.team.change_role(
            request.user.customer_account, user_id, data.role, request.user.actor
        )
        return user_read(user)

    @delete(
        "/{user_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Remove a user (their sessions end at once)",
    )
    def remove(self, request: AuthRequest, ctx: Ctx, user_id: FromPath[UUID]) -> None:
        ctx.team.remove(request.user.customer_account, user_id, request.user.actor)

    @post(
        "/{user_id:uuid}/unlock",
        status_code=200,
        sync_to_thread=True,
        summary="Lift a sign-in lock",
    )
    def unlock(self, request: AuthRequest, ctx: Ctx, user_id: FromPath[UUID]) -> UserRead:
        user = ctx.team.unlock(request.user.customer_account, user_id, request.user.actor)
        return user_read(user)


class InvitationController(Controller):
    path = "/v1/invitations"
    tags = ["users"]  # noqa: RUF012

    @post(
        "/accept",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        exclude_from_auth=True,
        summary="Accept an invitation: choose a username and password",
    )
    def accept(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[InvitationAccept]
    ) -> JoinedRead:
        require_json(request)
        user = ctx.team.accept(data.token, data.username, data.password)
        return JoinedRead(user.id, user.username, user.role, user.account_id)


class HistoryEntryRead(msgspec.Struct):
    at: datetime
    subject: str
    event: str
    actor: str | None
    details: dict[str, Any]


class AccountHistoryRead(msgspec.Struct):
    items: list[HistoryEntryRead]


def history_read(entries: list[Entry]) -> AccountHistoryRead:
    return AccountHistoryRead(
        [HistoryEntryRead(e.at, e.subject, e.event, e.actor, e.details) for e in entries]
    )


def account_history(ctx: Ctx) -> AccountHistory:
    backend = ctx.backend
    return AccountHistory(
        backend.accounts, backend.ledger, backend.messaging, SendsActedOnByHand(ctx.pool)
    )


class AccountHistoryController(Controller):
    path = "/v1/account/history"
    tags = ["users"]  # noqa: RUF012
    guards = [owner_only]  # noqa: RUF012

    @get("/", sync_to_thread=True, summary="Everything that happened to the account, and who")
    def history(self, request: AuthRequest, ctx: Ctx) -> AccountHistoryRead:
        entries = account_history(ctx).entries(request.user.customer_account, personal=True)
        return history_read(entries)


class StaffAccountController(Controller):
    """What support (and the operator) do for a customer: read the account's history, lift a
    user's sign-in lock."""

    path = "/v1/admin/accounts/{account_id:uuid}"
    tags = ["admin"]  # noqa: RUF012
    guards = [operator_or_support]  # noqa: RUF012

    @get("/history", sync_to_thread=True, summary="An account's history (personal data redacted)")
    def history(self, ctx: Ctx, account_id: FromPath[UUID]) -> AccountHistoryRead:
        return history_read(account_history(ctx).entries(account_id, personal=False))

    @post(
        "/users/{user_id:uuid}/unlock",
        status_code=200,
        sync_to_thread=True,
        summary="Lift a user's sign-in lock",
    )
    def unlock(
        self, request: AuthRequest, ctx: Ctx, account_id: FromPath[UUID], user_id: FromPath[UUID]
    ) -> UserRead:
        return user_read(ctx.team.unlock(account_id, user_id, request.user.actor))
