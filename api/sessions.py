"""``/v1/sessions``: signing in and out of the browser application (``services.signin``).

``POST /v1/sessions`` takes a username, e-mail address or account number and the password and
answers the session with its CSRF token; the session's token goes only into the HttpOnly
cookie ``kontor_session`` (``SameSite=Lax``, ``Secure`` when served over TLS), the CSRF token
also into the readable cookie ``kontor_csrf`` for the application's script to echo in
``X-CSRF-Token``. ``GET /v1/sessions`` lists the signed-in user's sessions,
``DELETE /v1/sessions/current`` signs out, ``DELETE /v1/sessions/{id}`` ends another one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT

from api.auth import CSRF_COOKIE, SESSION_COOKIE, anyone_signed_in
from api.context import AuthRequest, Ctx
from api.errors import ProblemError
from api.schemas import common
from domain.accounts.session import StoredSession
from domain.accounts.user import UserRole
from services.signin import ABSOLUTE, IDLE


class SessionCreate(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, common.line(254, 1, description="username, e-mail address or K-number")]
    password: Annotated[str, common.line(256, 1)]
    code: (
        Annotated[str, msgspec.Meta(max_length=20, description="two-factor code or recovery code")]
        | None
    ) = None


class SessionUser(msgspec.Struct):
    user_id: UUID
    username: str
    role: UserRole
    account_id: UUID | None


class SessionRead(msgspec.Struct):
    session_id: UUID
    csrf_token: str
    """Echo it in ``X-CSRF-Token`` with every request that changes something."""
    user: SessionUser
    expires_at: datetime
    idle_timeout_seconds: int
    two_factor_setup_required: bool
    """Two-factor sign-in is required and not set up: until it is, the session reaches only
    ``/v1/account/me/two-factor`` and ``/v1/sessions``."""


class SessionRow(msgspec.Struct):
    session_id: UUID
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


class SessionList(msgspec.Struct):
    items: list[SessionRow]


def require_json(request: Request[Any, Any, Any]) -> None:
    """A sign-in, reset or acceptance comes as JSON: a cross-site HTML form can post only
    form or plain-text bodies, so this keeps other sites from signing a browser in (login
    CSRF) or spending someone's links."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise ProblemError(
            415, "unsupported-media-type", "Unsupported media type", "send JSON (application/json)"
        )


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def session_cookies(request: Request[Any, Any, Any], token: str, csrf: str) -> list[Cookie]:
    secure = _secure(request)
    age = int(ABSOLUTE.total_seconds())
    return [
        Cookie(key=SESSION_COOKIE, value=token, path="/", httponly=True, secure=secure,
               samesite="lax", max_age=age),
        Cookie(key=CSRF_COOKIE, value=csrf, path="/", httponly=False, secure=secure,
               samesite="lax", max_age=age),
    ]  # fmt: skip


def expired_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    secure = _secure(request)
    return [
        Cookie(key=name, value="", path="/", httponly=name == SESSION_COOKIE, secure=secure,
               samesite="lax", max_age=0)
        for name in (SESSION_COOKIE, CSRF_COOKIE)
    ]  # fmt: skip


def own_session(request: AuthRequest) -> tuple[UUID, UUID]:
    principal = request.user
    if principal.user_id is None or principal.session_id is None:  # pragma: no cover - guarded
        raise PermissionDeniedException("this is for signed-in users, not API keys")
    return principal.user_id, principal.session_id


class SessionController(Controller):
    path = "/v1/sessions"
    tags = ["sessions"]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_201_CREATED,
        sync_to_thread=True,
        exclude_from_auth=True,
        summary="Sign in: a session cookie and its CSRF token",
    )
    def sign_in(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[SessionCreate]
    ) -> Response[SessionRead]:
        require_json(request)
        client = request.client.host if request.client else "unknown"
        new = ctx.signin.sign_in(
            data.login, data.password, client, request.headers.get("user-agent", ""), data.code
        )
        session = new.session
        body = SessionRead(
            session_id=session.session_id,
            csrf_token=session.csrf_token,
            user=SessionUser(session.user_id, session.username, session.role, session.account_id),
            expires_at=session.expires_at,
            idle_timeout_seconds=int(IDLE.total_seconds()),
            two_factor_setup_required=session.setup_required,
        )
        return Response(
            body,
            status_code=HTTP_201_CREATED,
            cookies=session_cookies(request, new.token, session.csrf_token),
            headers={"Cache-Control": "no-store"},
        )

    @get("/", sync_to_thread=True, guards=[anyone_signed_in], summary="My sessions")
    def list_sessions(self, request: AuthRequest, ctx: Ctx) -> SessionList:
        user_id, current = own_session(request)
        sessions: list[StoredSession] = list(ctx.signin.sessions_of(user_id))
        return SessionList(
            [
                SessionRow(
                    s.session_id,
                    s.created_at,
                    s.last_seen_at,
                    s.expires_at,
                    s.user_agent,
                    s.session_id == current,
                )
                for s in sessions
            ]
        )

    @delete(
        "/current",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        guards=[anyone_signed_in],
        summary="Sign out",
    )
    def sign_out(self, request: AuthRequest, ctx: Ctx) -> Response[None]:
        user_id, current = own_session(request)
        ctx.signin.sign_out(current, user_id)
        return Response(None, status_code=HTTP_204_NO_CONTENT, cookies=expired_cookies(request))

    @delete(
        "/{session_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        guards=[anyone_signed_in],
        summary="End one of my sessions",
    )
    def end_session(self, request: AuthRequest, ctx: Ctx, session_id: FromPath[UUID]) -> None:
        user_id, _ = own_session(request)
        if not ctx.signin.sign_out(session_id, user_id):
            raise ProblemError(
                404, "session-not-found", "Session not found", f"you have no session {session_id}"
            )


class PasswordResetCreate(msgspec.Struct, forbid_unknown_fields=True):
    login: Annotated[str, common.line(254, 1, description="username or K-number")]
    email: Annotated[str, common.line(254, 3)]


class PasswordResetComplete(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, common.line(200, 1)]
    password: Annotated[str, common.line(256, 1)]


class PasswordResetRead(msgspec.Struct):
    detail: str


class PasswordResetController(Controller):
    """``POST /v1/password-resets`` (username or account number, and the e-mail on file: a link
    goes out when they match; the answer is the same when they do not) and
    ``POST /v1/password-resets/complete`` (the link's token and the new password)."""

    path = "/v1/password-resets"
    tags = ["sessions"]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
        exclude_from_auth=True,
        summary="Ask for a password reset link by e-mail",
    )
    def request_reset(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[PasswordResetCreate]
    ) -> PasswordResetRead:
        require_json(request)
        ctx.password_resets.request(data.login, data.email)
        return PasswordResetRead(
            "if the name and the e-mail address belong to a user, a link is on its way there"
        )

    @post(
        "/complete",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        exclude_from_auth=True,
        summary="Set a new password with the link's token (ends every session)",
    )
    def complete_reset(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: JSONBody[PasswordResetComplete]
    ) -> None:
        require_json(request)
        ctx.password_resets.complete(data.token, data.password)
