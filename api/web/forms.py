"""What the application's pages share: who is signed in, the forms' CSRF tokens, pages.

Pages are not behind the API's key middleware: a page without a session sends the browser to
the sign-in form (``SignInNeeded``) instead of answering a 401 problem. A signed-in page reads
the session the API reads (``services.signin``), and its principal is the one the API's guards
see (``api.auth.session_principal``), so every page checks roles as the API does.

Forms post ``application/x-www-form-urlencoded``. A signed-in form carries the session's CSRF
token (``csrf_token``); the sign-in and sign-up forms, before any session, carry a token that
is also in the HttpOnly, ``SameSite=Strict`` cookie ``kontor_form`` (double submit): another
site can neither read nor set it, so it cannot sign a browser in to its own account (login
CSRF) or register in someone's name.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import SESSION_COOKIE, Principal, session_principal
from api.context import ApiContext
from api.errors import REFUSALS, ProblemError, problem_spec
from api.web.i18n import LANGUAGE_COOKIE, RefusalDetail, Texts, language_of
from domain.accounts.session import StoredSession

FORM_COOKIE = "kontor_form"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
"""Every page's headers: no inline script or style, no framing, nothing from other hosts."""


@dataclass(frozen=True)
class Refusal:
    detail: RefusalDetail
    status: int


def refusal_of(exc: Exception, *, only: int | None = None) -> Refusal:
    """One of the platform's known refusals (a 4xx problem of ``api.errors``; ``only``: that
    status alone), as a page says it at its form; anything else is raised again, for the
    error handlers (a 503 when the database is away, a 500 with an incident). Its detail
    keeps the problem's type and members, so that ``page`` says it in the reader's language
    (``Texts.refusal``)."""
    if isinstance(exc, ProblemError):
        found = Refusal(RefusalDetail(exc.detail, exc.slug, exc.extra), exc.status)
    else:
        spec = problem_spec(exc)
        if spec is None:
            raise exc
        extra = spec.extra(exc) if spec.extra else {}
        found = Refusal(RefusalDetail(spec.detail or str(exc), spec.slug, extra), spec.status)
    if found.status >= 500 or (only is not None and found.status != only):
        raise exc
    return found


def done_or_refused(
    action: Callable[[], object], refused: Callable[[Refusal], Response[Any]], then: str
) -> Response[Any]:
    """Do a form's ``action`` and go on to ``then``; one of the platform's refusals is said
    at the form by ``refused`` instead."""
    try:
        action()
    except REFUSALS as exc:
        return refused(refusal_of(exc))
    return redirect(then)


class SignInNeeded(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The page needs a signed-in user: the browser goes to the sign-in form, then back."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class FormRefused(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A form came without its CSRF token (or an old one): nothing was done."""


def texts(request: Request[Any, Any, Any]) -> Texts:
    return Texts(
        language_of(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))
    )


@dataclass(frozen=True)
class SignedIn:
    session: StoredSession
    principal: Principal


def signed_in(request: Request[Any, Any, Any], ctx: ApiContext) -> SignedIn | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    session = ctx.signin.session(token) if token else None
    if session is None:
        return None
    return SignedIn(session, session_principal(session))


def require_signed_in(request: Request[Any, Any, Any], ctx: ApiContext) -> SignedIn:
    found = signed_in(request, ctx)
    if found is None:
        raise SignInNeeded(request.url.path)
    return found


def check_session_form(form: dict[str, Any], who: SignedIn) -> None:
    if not hmac.compare_digest(
        str(form.get("csrf_token", "")).encode(), who.session.csrf_token.encode()
    ):
        raise FormRefused


def check_anonymous_form(request: Request[Any, Any, Any], form: dict[str, Any]) -> None:
    cookie = request.cookies.get(FORM_COOKIE, "")
    posted = str(form.get("form_token", ""))
    if not cookie or not hmac.compare_digest(cookie.encode(), posted.encode()):
        raise FormRefused


def form_token(request: Request[Any, Any, Any]) -> str:
    """The anonymous forms' token: the browser's, or a new one (``form_cookie`` sets it)."""
    return request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24)


def form_cookie(request: Request[Any, Any, Any], token: str) -> Cookie:
    return Cookie(key=FORM_COOKIE, value=token, path="/", httponly=True,
                  secure=request.url.scheme == "https", samesite="strict")  # fmt: skip


def page(
    request: Request[Any, Any, Any],
    name: str,
    *,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    """Render ``templates/<name>.html`` in the browser's language (refusals too)."""
    said = texts(request)
    return Template(
        template_name=f"{name}.html",
        context={
            **said.template_globals(),
            "path": request.url.path,
            **{
                k: said.refusal(v) if isinstance(v, RefusalDetail) else v
                for k, v in context.items()
            },
        },
        status_code=status_code,
        headers=SECURITY_HEADERS,
        cookies=cookies or [],
    )


def redirect(path: str, cookies: list[Cookie] | None = None) -> Response[Any]:
    return Redirect(path, status_code=HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS,
                    cookies=cookies or [])  # fmt: skip


def sign_in_redirect(exc: SignInNeeded) -> Response[Any]:
    return redirect(f"/anmelden?next={quote(exc.path)}")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/app"
