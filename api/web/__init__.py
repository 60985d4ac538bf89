"""The browser application, server rendered on the API's own Litestar app (``WEB``).

Jinja2 templates (``templates/``), one stylesheet and the icon (``static/``, served at
``/static/app``, nothing from another host), German first (``i18n``). Pages are public paths
for the API's key middleware: each finds its signed-in user itself (``forms``) and sends the
browser to the sign-in form when there is none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from api.web.access import AccessPages
from api.web.callbacks import CallbackPages
from api.web.compose import ComposePages
from api.web.finance import FinancePages
from api.web.forms import FormRefused, SignInNeeded, page, redirect, sign_in_redirect
from api.web.lists import ListPages
from api.web.optouts import OptOutPages
from api.web.pages import TWO_FACTOR, AppPages, PublicPages, SetUpTwoFactorFirst, StaffPage
from api.web.replies import ReplyPages
from api.web.staff import STAFF, StaffPages
from api.web.team import TeamPages

HERE = Path(__file__).parent
STATIC = "/static/app"
WEB_PATHS = [
    "^/$",
    "^/anmelden$",
    "^/registrieren$",
    "^/passwort-vergessen$",
    "^/reset-password$",
    "^/accept-invitation$",
    "^/sprache/",
    "^/app(/|$)",
    f"^{STATIC}/",
]
"""The application's paths: not behind the API's key middleware (see ``forms``)."""


def _form_refused(request: Request[Any, Any, Any], _: FormRefused) -> Response[Any]:
    return page(request, "form_refused", status_code=403)


def _sign_in_needed(_: Request[Any, Any, Any], exc: SignInNeeded) -> Response[Any]:
    return sign_in_redirect(exc)


def _staff_page(_: Request[Any, Any, Any], __: StaffPage) -> Response[Any]:
    return redirect(STAFF)


def _set_up_first(_: Request[Any, Any, Any], __: SetUpTwoFactorFirst) -> Response[Any]:
    return redirect(TWO_FACTOR)


WEB = Router(
    "/",
    route_handlers=[
        PublicPages,
        AppPages,
        ComposePages,
        TeamPages,
        AccessPages,
        StaffPages,
        ListPages,
        FinancePages,
        OptOutPages,
        CallbackPages,
        ReplyPages,
        create_static_files_router(path=STATIC, directories=[HERE / "static"],
                                   include_in_schema=False),
    ],
    include_in_schema=False,
    exception_handlers={
        FormRefused: _form_refused,
        SignInNeeded: _sign_in_needed,
        StaffPage: _staff_page,
        SetUpTwoFactorFirst: _set_up_first,
    },
)  # fmt: skip
TEMPLATES = TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine)
