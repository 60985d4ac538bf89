"""The browser application's pages: sign-up, sign-in, sign-out, the language, the dashboard.

Each page calls the services and the read functions the API's endpoints call
(``api.accounts.register_account``, ``balance_read``, ``services.signin``), never a second
copy of a rule; what a form gets wrong is shown at the field, in the form.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Template

from adapters.crypto import totp
from api import list_campaigns as accepting
from api.accounts import balance_read, register_account, statement_lines
from api.auth import Need
from api.context import Ctx
from api.errors import REFUSALS
from api.history import message_detail, message_row
from api.messages import cancel_send
from api.schemas.accounts import RegistrationCreate
from api.send_views import campaign_read, message_row_seen, own_send
from api.sessions import expired_cookies, session_cookies
from api.web.charts import SVG_HEADERS, Final, deliveries_chart
from api.web.forms import (
    SignedIn,
    check_anonymous_form,
    check_session_form,
    form_cookie,
    form_token,
    page,
    redirect,
    refusal_of,
    require_signed_in,
    safe_next,
    signed_in,
    texts,
)
from api.web.i18n import LANGUAGE_COOKIE, LANGUAGES
from domain.accounts.account import AccountKind, Salutation
from domain.ledger.billing import UsageCounter
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.states import COLOURS, MessageState
from domain.tariff import Tariff
from projections import messaging_queries as q
from projections import replies
from services.signin import (
    SignInRefusedError,
    SignInThrottledError,
    TwoFactorRefusedError,
    TwoFactorRequiredError,
)

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SIGN_UP_FIELDS = ("kind", "company", "salutation", "first_name", "last_name", "street",
                  "postcode", "city", "country", "email", "phone", "username", "password",
                  "tariff")  # fmt: skip
FIELD_IN_ERROR = re.compile(r"missing required field `([a-z_]+)`|at `\$\.([a-z_]+)`")
RECENT_SENDS = 5
STATEMENT_LINES = 200
SENDS_PER_PAGE = 20
MESSAGES_PER_PAGE = 100
CANCELLABLE = frozenset({"awaiting_review", "scheduled", "sending", "recorded"})
"""Send states a cancellation still stops something in (``domain.messaging.send``)."""
TWO_FACTOR = "/app/zwei-faktor"
COLOUR_ORDER = ("grey", "green", "orange", "red")


def _client(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


class PublicPages(Controller):
    """Pages before signing in."""

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        return redirect("/app" if signed_in(request, ctx) else "/anmelden")

    @get("/sprache/{language:str}")
    async def language(
        self,
        request: Request[Any, Any, Any],
        language: FromPath[str],
        next: FromQuery[str | None] = None,
    ) -> Response[Any]:
        chosen = language if language in LANGUAGES else "de"
        cookie = Cookie(key=LANGUAGE_COOKIE, value=chosen, path="/", samesite="lax",
                        max_age=365 * 24 * 3600, secure=request.url.scheme == "https")  # fmt: skip
        return redirect(safe_next(next), cookies=[cookie])

    @get("/anmelden")
    async def sign_in_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        reset: FromQuery[str | None] = None,
    ) -> Template:
        token = form_token(request)
        return page(request, "sign_in", form_token=token, next=safe_next(next), login="",
                    error=None, code_needed=False, reset=reset is not None,
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @post("/anmelden", sync_to_thread=True, status_code=200)
    def sign_in(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        check_anonymous_form(request, data)
        login, password = data.get("login", "").strip(), data.get("password", "")
        code = data.get("code", "").strip() or None
        target = safe_next(data.get("next"))
        error, code_needed, _ = None, code is not None, texts(request).gettext
        try:
            new = ctx.signin.sign_in(
                login, password, _client(request), request.headers.get("user-agent", ""), code
            )
        except (SignInRefusedError, TwoFactorRefusedError):
            error = _("The sign-in details do not match. Please check them and try again.")
        except SignInThrottledError as exc:
            error = _("Too many failed attempts. Please wait %(seconds)s seconds.",
                      seconds=exc.retry_after)  # fmt: skip
        except TwoFactorRequiredError:
            error, code_needed = _("Enter the code from your authenticator app."), True
        else:
            cookies = session_cookies(request, new.token, new.session.csrf_token)
            return redirect(target, cookies=cookies)
        token = form_token(request)
        return page(request, "sign_in", status_code=400 if not code_needed else 200,
                    form_token=token, next=target, login=login, error=error,
                    code_needed=code_needed, cookies=[form_cookie(request, token)])  # fmt: skip

    @get("/passwort-vergessen")
    async def forgot_form(self, request: Request[Any, Any, Any]) -> Template:
        token = form_token(request)
        return page(request, "forgot", form_token=token, sent=False,
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @post("/passwort-vergessen", sync_to_thread=True, status_code=200)
    def forgot(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Template:
        check_anonymous_form(request, data)
        login, email = data.get("login", "").strip(), data.get("email", "").strip()
        if login and email:
            ctx.password_resets.request(login, email)  # the same answer, matched or not
        token = form_token(request)
        return page(request, "forgot", form_token=token, sent=bool(login and email),
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @get("/reset-password")
    async def reset_form(self, request: Request[Any, Any, Any]) -> Template:
        """The mailed link's page: its token is in the fragment (``#token=``), which never
        reaches a server log; ``static/link.js`` puts it into the form."""
        token = form_token(request)
        return page(request, "reset", form_token=token, error=None,
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @post("/reset-password", sync_to_thread=True, status_code=200)
    def reset(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        check_anonymous_form(request, data)
        try:
            ctx.password_resets.complete(data.get("token", ""), data.get("password", ""))
        except REFUSALS as exc:
            refused = refusal_of(exc)
            token = form_token(request)
            return page(request, "reset", status_code=refused.status, form_token=token,
                        error=refused.detail,
                        cookies=[form_cookie(request, token)])  # fmt: skip
        return redirect("/anmelden?reset=1")

    @get("/accept-invitation")
    async def invitation_form(self, request: Request[Any, Any, Any]) -> Template:
        token = form_token(request)
        return page(request, "invitation", form_token=token, error=None, username="",
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @post("/accept-invitation", sync_to_thread=True, status_code=200)
    def accept_invitation(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: Form
    ) -> Response[Any]:
        check_anonymous_form(request, data)
        username, password = data.get("username", "").strip(), data.get("password", "")
        try:
            ctx.team.accept(data.get("token", ""), username, password)
        except REFUSALS as exc:
            refused = refusal_of(exc)
            token = form_token(request)
            return page(request, "invitation", status_code=refused.status, form_token=token,
                        error=refused.detail, username=username,
                        cookies=[form_cookie(request, token)])  # fmt: skip
        new = ctx.signin.sign_in(
            username, password, _client(request), request.headers.get("user-agent", "")
        )
        return redirect("/app", cookies=session_cookies(request, new.token, new.session.csrf_token))

    @get("/registrieren", sync_to_thread=True)
    def sign_up_form(self, request: Request[Any, Any, Any], ctx: Ctx) -> Template:
        token = form_token(request)
        return self._sign_up_page(request, ctx, token, {}, {})

    def _sign_up_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        token: str,
        values: dict[str, str],
        errors: dict[str, str],
        status_code: int = 200,
    ) -> Template:
        shown = {k: v for k, v in values.items() if k != "password"}  # never echoed back
        return page(request, "sign_up", status_code=status_code, form_token=token,
                    values=shown, errors=errors, kinds=list(AccountKind),
                    salutations=list(Salutation), tariffs=list(Tariff),
                    trial=ctx.settings.trial_credit, terms=ctx.settings.terms_version,
                    cookies=[form_cookie(request, token)])  # fmt: skip

    @post("/registrieren", sync_to_thread=True, status_code=201)
    def sign_up(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        check_anonymous_form(request, data)
        values = {k: data.get(k, "").strip() for k in SIGN_UP_FIELDS}
        values["password"] = data.get("password", "")
        body: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
        if values.get("company") == "":
            body.pop("company", None)
        if data.get("accept_terms") == "yes":
            body["accepted_terms"] = ctx.settings.terms_version
            body["accepted_privacy"] = ctx.settings.privacy_version
        token = form_token(request)
        try:
            form = msgspec.convert(body, RegistrationCreate)
        except msgspec.ValidationError as exc:
            field = field_in_error(str(exc))
            return self._sign_up_page(request, ctx, token, values,
                                      {field: texts(request).gettext(
                                          "Please fill in or correct this field.")},
                                      status_code=422)  # fmt: skip
        try:
            registered = register_account(ctx, form, _client(request))
        except REFUSALS as exc:
            refused = refusal_of(exc)
            detail = refused.detail
            return self._sign_up_page(request, ctx, token, values, {"form": detail},
                                      status_code=refused.status)  # fmt: skip
        new = ctx.signin.sign_in(
            form.username, form.password, _client(request), request.headers.get("user-agent", "")
        )
        cookies = session_cookies(request, new.token, new.session.csrf_token)
        return page(request, "welcome", status_code=201, registered=registered, cookies=cookies)


@dataclass(frozen=True)
class Customer:
    signed_in: SignedIn
    account_id: UUID


class StaffPage(Exception):  # noqa: N818 - a control-flow signal, not an error
    """A staff user opened a customer's page: theirs is the staff page."""


class SetUpTwoFactorFirst(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The session must set up two-factor sign-in before anything else, as in the API."""


def require_customer(request: Request[Any, Any, Any], ctx: Ctx) -> Customer:
    """A signed-in user of a customer's account whose session may read its pages (any
    account role reads, ``Need.READ``, as in the API)."""
    who = require_signed_in(request, ctx)
    if who.session.setup_required:
        raise SetUpTwoFactorFirst
    account_id = who.principal.account_id
    if account_id is None or who.principal.access not in Need.READ.value:
        raise StaffPage
    return Customer(who, account_id)


class AppPages(Controller):
    """Pages of a signed-in user."""

    path = "/app"

    @get("/", sync_to_thread=True)
    def dashboard(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        customer = require_customer(request, ctx)
        who, account_id = customer.signed_in, customer.account_id
        account = ctx.backend.accounts.account(account_id)
        now = ctx.now()
        day, month = UsageCounter.period_of(now)
        used_day, used_month = ctx.backend.ledger.wallet(account_id).usage.used(day, month)
        limits = account.contract.limits
        sends = [campaign_read(ctx, row, counts=True, overview=True)
                 for row in q.sends(ctx.pool, account_id, None, None, RECENT_SENDS)]  # fmt: skip
        return page(
            request,
            "dashboard",
            who=who,
            csrf=who.session.csrf_token,
            account=account,
            balance=balance_read(ctx, account_id),
            usage={"day": (used_day, limits.daily_parts),
                   "month": (used_month, limits.monthly_parts)},
            sends=[(s, colour_counts(s.counts)) for s in sends],
            unread=replies.unread(ctx.pool, account_id),
            now=now,
        )  # fmt: skip

    @get("/guthaben", sync_to_thread=True)
    def credit(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        from_: Annotated[date | None, QueryParameter(name="from")] = None,
        to: FromQuery[date | None] = None,
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who, account_id = customer.signed_in, customer.account_id
        error: str | None = None
        try:
            lines = statement_lines(ctx, account_id, from_, to, None, STATEMENT_LINES)
        except REFUSALS as exc:
            refused = refusal_of(exc)
            lines, error = [], refused.detail
        query = urlencode({k: v.isoformat() for k, v in (("from", from_), ("to", to)) if v})
        return page(request, "credit", who=who, csrf=who.session.csrf_token,
                    balance=balance_read(ctx, account_id), lines=lines, error=error,
                    from_=from_, to=to, more=len(lines) == STATEMENT_LINES,
                    csv="/v1/account/statement?format=csv" + (f"&{query}" if query else ""),
                    status_code=422 if error else 200)  # fmt: skip

    @get("/auftraege", sync_to_thread=True)
    def sends(
        self, request: Request[Any, Any, Any], ctx: Ctx, before: FromQuery[datetime | None] = None
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        rows = q.sends(ctx.pool, customer.account_id, None, before, SENDS_PER_PAGE)
        reads = [campaign_read(ctx, row, counts=True, overview=True) for row in rows]
        if before is None:  # list campaigns being accepted, or refused: not sends (yet)
            reads = accepting.unaccepted_reads(ctx, customer.account_id) + reads
        more = rows[-1]["created_at"].isoformat() if len(rows) == SENDS_PER_PAGE else None
        return page(request, "sends", who=who, csrf=who.session.csrf_token,
                    sends=[(s, colour_counts(s.counts)) for s in reads], more=more)  # fmt: skip

    @get("/auftraege/{send_id:uuid}", sync_to_thread=True)
    def send(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        send_id: FromPath[UUID],
        state_: Annotated[str | None, QueryParameter(name="state")] = None,
        after: FromQuery[int] = -1,
        cancelled: Annotated[bool, QueryParameter(name="storniert")] = False,
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        try:
            row = own_send(ctx, who.principal, send_id)
        except SendNotFoundError:
            return self._accepting(request, ctx, customer, send_id, cancelled)
        if cancelled:  # just now: the read side may not have it yet, the send itself has
            row = row | {"state": ctx.backend.messaging.send(send_id).state.value}
        chosen = state_ if state_ in {s.value for s in MessageState} else None
        read = campaign_read(ctx, row, counts=True)
        rows = q.messages_of_send(ctx.pool, send_id, chosen, max(after, -1), MESSAGES_PER_PAGE)
        messages = [message_row(m) for m in rows]
        more = messages[-1].index if len(messages) == MESSAGES_PER_PAGE else None
        may_cancel = (read.state in CANCELLABLE
                      and who.principal.access in Need.SEND.value)  # fmt: skip
        return page(request, "send", who=who, csrf=who.session.csrf_token, send=read,
                    colours=colour_counts(read.counts), messages=messages, state=chosen,
                    states=sorted(read.counts), more=more, may_cancel=may_cancel,
                    cancelled=cancelled)  # fmt: skip

    @get("/auftraege/{send_id:uuid}/verlauf.svg", sync_to_thread=True)
    def chart(
        self, request: Request[Any, Any, Any], ctx: Ctx, send_id: FromPath[UUID]
    ) -> Response[Any]:
        """The chart of the send's deliveries over time (``charts``), the send's owner's."""
        return send_chart(request, ctx, require_customer(request, ctx).signed_in, send_id)

    def _accepting(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, send_id: UUID,
        cancelled: bool,
    ) -> Response[Any]:  # fmt: skip
        """A list campaign that is not a send yet: its acceptance's progress, or its refusal."""
        who = customer.signed_in
        try:
            read = accepting.job_campaign_read(accepting.own_job(ctx, customer.account_id, send_id))
        except SendNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        may_cancel = read.state == "accepting" and who.principal.access in Need.SEND.value
        return page(request, "send", who=who, csrf=who.session.csrf_token, send=read,
                    colours=[], messages=[], state=None, states=[], more=None,
                    may_cancel=may_cancel, cancelled=cancelled,
                    acceptance=read.acceptance)  # fmt: skip

    @get("/nachrichten/{message_id:uuid}", sync_to_thread=True)
    def message(
        self, request: Request[Any, Any, Any], ctx: Ctx, message_id: FromPath[UUID]
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        try:
            detail = message_detail(ctx, message_row_seen(ctx, who.principal, message_id))
        except REFUSALS as exc:
            refusal_of(exc, only=404)
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return page(request, "message", who=who, csrf=who.session.csrf_token, detail=detail)

    @post("/auftraege/{send_id:uuid}/stornieren", sync_to_thread=True, status_code=200)
    def cancel(
        self, request: Request[Any, Any, Any], ctx: Ctx, send_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        if who.principal.access not in Need.SEND.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        try:
            cancel_send(ctx, who.principal, send_id)
        except SendNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        except REFUSALS as exc:  # no longer cancellable (sent, or refused meanwhile)
            refused = refusal_of(exc)
            return page(request, "refused", status_code=refused.status, who=who,
                        csrf=who.session.csrf_token, detail=refused.detail,
                        back=f"/app/auftraege/{send_id}")  # fmt: skip
        return redirect(f"/app/auftraege/{send_id}?storniert=true")

    @get("/zwei-faktor", sync_to_thread=True)
    def two_factor(self, request: Request[Any, Any, Any], ctx: Ctx) -> Template:
        who = require_signed_in(request, ctx)
        user = ctx.backend.accounts.user(who.session.user_id)
        return page(request, "two_factor", who=who, csrf=who.session.csrf_token,
                    enabled=user.two_factor, setup=None, codes=None, error=None)  # fmt: skip

    @post("/zwei-faktor", sync_to_thread=True, status_code=200)
    def two_factor_start(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Template:
        who = require_signed_in(request, ctx)
        check_session_form(data, who)
        setup = ctx.two_factor.start(who.session.user_id)
        return self._setup_page(request, who, setup.secret, setup.qr_svg, None)

    def _setup_page(
        self, request: Request[Any, Any, Any], who: SignedIn, secret: str, qr_svg: str,
        error: str | None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        qr = "data:image/svg+xml;base64," + base64.b64encode(qr_svg.encode()).decode()
        return page(request, "two_factor", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, enabled=False,
                    setup={"secret": secret, "qr": qr}, codes=None, error=error)  # fmt: skip

    @post("/zwei-faktor/bestaetigen", sync_to_thread=True, status_code=200)
    def two_factor_confirm(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Template:
        who = require_signed_in(request, ctx)
        check_session_form(data, who)
        try:
            codes = ctx.two_factor.confirm(who.session.user_id, data.get("code", ""))
        except TwoFactorRefusedError:
            user = ctx.backend.accounts.user(who.session.user_id)
            pending = user.totp_pending.value if user.totp_pending is not None else None
            if pending is None:
                raise
            error = texts(request).gettext("The code did not match. Please try the current one.")
            return self._setup_page(request, who, pending, totp.qr_svg(
                totp.address(pending, user.username)), error, status_code=400)  # fmt: skip
        return page(request, "two_factor", who=who, csrf=who.session.csrf_token,
                    enabled=True, setup=None, codes=codes, error=None)  # fmt: skip

    @post("/abmelden", sync_to_thread=True, status_code=200)
    def sign_out(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        who: SignedIn | None = signed_in(request, ctx)
        if who is not None:
            check_session_form(data, who)
            ctx.signin.sign_out(who.session.session_id, who.session.user_id)
        return redirect("/anmelden", cookies=expired_cookies(request))


def field_in_error(message: str) -> str:
    """The sign-up field a decoding error names (``form`` when it names none)."""
    found = FIELD_IN_ERROR.search(message)
    field = (found.group(1) or found.group(2)) if found else "form"
    return "accept_terms" if field.startswith("accepted_") else field


def send_chart(
    request: Request[Any, Any, Any], ctx: Ctx, who: SignedIn, send_id: UUID
) -> Response[Any]:
    """The SVG chart of a send the signed-in user may see (``charts``), or a 404."""
    try:
        own_send(ctx, who.principal, send_id)
    except SendNotFoundError:
        return page(request, "not_found", status_code=404, who=who, csrf=who.session.csrf_token)
    finals = [Final(r["at"], r["state"], int(r["n"]))
              for r in q.finals_per_second(ctx.pool, send_id)]  # fmt: skip
    return Response(deliveries_chart(finals, texts(request)), media_type="image/svg+xml",
                    headers=SVG_HEADERS)  # fmt: skip


def colour_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """A send's messages per colour (grey no report yet, green delivered, orange buffered,
    red failed), in that order, each colour always present."""
    totals = dict.fromkeys(COLOUR_ORDER, 0)
    for state, n in counts.items():
        try:
            totals[COLOURS[MessageState(state)]] += n
        except ValueError:
            totals["grey"] += n
    return list(totals.items())
