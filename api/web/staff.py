"""The staff console in the application ("Mitarbeiter"): find an account by its number, a
username or an e-mail address; an account's page with its state, tariff, credit and sends, and
the operator's actions on it (credit a payment, after a confirmation that names the amount;
block and unblock, with a reason); the review queue, where held campaigns are released or
cancelled. Every action goes through the service the admin API uses and records the staff
user (``Principal.actor``). Operators act; support and finance read."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from api.accounts import balance_read
from api.context import Ctx
from api.errors import REFUSALS
from api.send_views import campaign_read
from api.web.forms import (
    SignedIn,
    check_session_form,
    page,
    redirect,
    refusal_of,
    require_signed_in,
)
from api.web.i18n import UNIT
from api.web.pages import TWO_FACTOR
from domain.accounts.account import AccountState
from domain.accounts.api_key import Role
from domain.ledger.lots import PaymentMethod
from projections import messaging_queries as q
from services.administration import AccountChange

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
STAFF = "/app/mitarbeiter"
STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPPORT, Role.FINANCE})
RECENT_SENDS = 10


def require_staff(request: Request[Any, Any, Any], ctx: Ctx) -> SignedIn | Response[Any]:
    """The signed-in staff user, or the page to show instead (two-factor set-up first, or
    not allowed for a customer)."""
    who = require_signed_in(request, ctx)
    if who.session.setup_required:
        return redirect(TWO_FACTOR)
    if who.principal.role not in STAFF_ROLES:
        return page(request, "not_allowed", status_code=403, who=who, csrf=who.session.csrf_token)
    return who


def amount_of(text: str) -> int | None:
    """An amount typed in EUR (``1.234,50`` or ``1234.50``) in 1/10,000 EUR; None if it is
    not one, or not above zero."""
    cleaned = text.strip().replace("€", "").replace(" ", "")
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    amount = int((value * UNIT).to_integral_value())
    return amount if amount > 0 and value == Decimal(amount) / UNIT else None


class StaffPages(Controller):
    path = STAFF

    @get("/", sync_to_thread=True)
    def home(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        find: Annotated[str | None, QueryParameter(name="q")] = None,
        decided: Annotated[UUID | None, QueryParameter(name="entschieden")] = None,
    ) -> Response[Any]:
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        query = (find or "").strip()
        if query:
            user = ctx.backend.accounts.find_user(query)
            if user is not None and user.account_id is not None:
                return redirect(f"{STAFF}/konten/{user.account_id}")
        # The send just decided on may not have reached the read side yet: it is not shown.
        rows = [r for r in q.awaiting_review(ctx.pool) if r["send_id"] != decided]
        queue = [campaign_read(ctx, row, counts=False) for row in rows]
        return page(request, "staff_home", status_code=404 if query else 200, who=who,
                    csrf=who.session.csrf_token, query=query, not_found=bool(query),
                    queue=queue, operator=who.principal.role is Role.ADMIN,
                    decided=decided is not None)  # fmt: skip

    @get("/konten/{account_id:uuid}", sync_to_thread=True)
    def account(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        account_id: FromPath[UUID],
        booked: Annotated[int | None, QueryParameter(name="gutgeschrieben", ge=1)] = None,
    ) -> Response[Any]:
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        return self._account_page(request, ctx, who, account_id, booked=booked)

    def _account_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, who: SignedIn, account_id: UUID,
        *, error: str | None = None, confirm: dict[str, Any] | None = None,
        status_code: int = 200, booked: int | None = None,
    ) -> Response[Any]:  # fmt: skip
        try:
            account = ctx.backend.accounts.account(account_id)
        except AggregateNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        sends = [campaign_read(ctx, row, counts=True)
                 for row in q.sends(ctx.pool, account_id, None, None, RECENT_SENDS)]  # fmt: skip
        return page(request, "staff_account", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, account=account,
                    balance=balance_read(ctx, account_id), sends=sends, error=error,
                    confirm=confirm, methods=list(PaymentMethod), booked=booked,
                    operator=who.principal.role is Role.ADMIN)  # fmt: skip

    def _operator(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: dict[str, str]
    ) -> SignedIn | Response[Any]:
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        check_session_form(data, who)
        if who.principal.role is not Role.ADMIN:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return who

    @post("/konten/{account_id:uuid}/gutschrift", sync_to_thread=True, status_code=200)
    def credit(
        self, request: Request[Any, Any, Any], ctx: Ctx, account_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        who = self._operator(request, ctx, data)
        if isinstance(who, Response):
            return who
        amount = amount_of(data.get("amount", ""))
        reference = data.get("reference", "").strip()
        try:
            method = PaymentMethod(data.get("method", ""))
        except ValueError:
            method = None
        if amount is None or not reference or method is None:
            return self._account_page(request, ctx, who, account_id, status_code=422,
                                      error="credit-form")  # fmt: skip
        wanted = {"amount": amount, "typed": data.get("amount", ""), "method": method,
                  "reference": reference}  # fmt: skip
        if data.get("confirmed") != "yes":
            return self._account_page(request, ctx, who, account_id, confirm=wanted)
        try:
            ctx.credits.topup(account_id, net=amount, method=method, reference=reference,
                                      package="top-up", actor=who.principal.actor,
                                      now=ctx.now())  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._account_page(request, ctx, who, account_id, status_code=refused.status,
                                      error=refused.detail)  # fmt: skip
        # The balance shown comes from the read side, a moment behind: say what was booked.
        return redirect(f"{STAFF}/konten/{account_id}?gutgeschrieben={amount}")

    @post("/konten/{account_id:uuid}/status", sync_to_thread=True, status_code=200)
    def state(
        self, request: Request[Any, Any, Any], ctx: Ctx, account_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        who = self._operator(request, ctx, data)
        if isinstance(who, Response):
            return who
        reason = data.get("reason", "").strip()
        try:
            wanted = AccountState(data.get("state", ""))
            if not reason:
                raise ValueError("a reason is needed")
            ctx.administration.administer(account_id, AccountChange(state=wanted, reason=reason),
                                          who.principal.actor, ctx.now())  # fmt: skip
        except ValueError:
            return self._account_page(request, ctx, who, account_id, status_code=422,
                                      error="state-form")  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._account_page(request, ctx, who, account_id, status_code=refused.status,
                                      error=refused.detail)  # fmt: skip
        return redirect(f"{STAFF}/konten/{account_id}")

    @post("/pruefung/{send_id:uuid}", sync_to_thread=True, status_code=200)
    def review(
        self, request: Request[Any, Any, Any], ctx: Ctx, send_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        who = self._operator(request, ctx, data)
        if isinstance(who, Response):
            return who
        try:
            if data.get("decision") == "release":
                ctx.backend.messaging.release_review(send_id, who.principal.actor, ctx.now())
            else:
                ctx.cancellation.cancel(send_id, None, who.principal.actor,
                                        "cancelled in review")  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return page(request, "staff_home", status_code=refused.status, who=who,
                        csrf=who.session.csrf_token, query="", not_found=False, queue=[],
                        operator=True, error=refused.detail,
                        decided=False)  # fmt: skip
        return redirect(f"{STAFF}?entschieden={send_id}")
