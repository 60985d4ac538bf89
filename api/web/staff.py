"""The staff console in the application ("Mitarbeiter"): find an account by its number, a
username or an e-mail address; an account's page with its state, tariff, credit and sends, and
the operator's actions on it (credit a payment, after a confirmation that names the amount;
block and unblock, with a reason); the review queue, where held campaigns are released or
cancelled. Every action goes through the service the admin API uses and records the staff
user (``Principal.actor``). Operators act; support and finance read."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter

from api.accounts import balance_read, statement_lines
from api.context import Ctx
from api.errors import REFUSALS
from api.history import message_detail, message_row
from api.send_admin import unmatched_page
from api.send_views import campaign_read, message_row_seen, own_send
from api.users import account_history
from api.web.forms import (
    SignedIn,
    check_session_form,
    page,
    redirect,
    refusal_of,
    require_signed_in,
    texts,
)
from api.web.i18n import UNIT
from api.web.pages import MESSAGES_PER_PAGE, TWO_FACTOR, colour_counts, send_chart
from domain.accounts.account import Account, AccountState, Module
from domain.accounts.api_key import Role
from domain.accounts.contract import ContractType
from domain.ledger.as_of import past_moment
from domain.ledger.billing import BERLIN
from domain.ledger.lots import PaymentMethod
from domain.messaging.exceptions import SendNotFoundError
from domain.messaging.states import MessageState
from domain.phone.exceptions import PhoneError
from domain.tariff import Tariff
from projections import messaging_queries as q
from services.adjustments import Adjustment, Correction, Goodwill, Refund
from services.administration import AccountChange, ContractTerms

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
STAFF = "/app/mitarbeiter"
STAFF_ROLES = frozenset({Role.ADMIN, Role.SUPPORT, Role.FINANCE})
RECENT_SENDS = 10
RECEIPTS_PER_PAGE = 50
JOURNAL_DAYS = 30
JOURNAL_LINES = 50
PHONE_LIKE = re.compile(r"^\+?[\d][\d ()/-]{4,30}$")


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


ADJUSTMENTS = {
    "goodwill": "Goodwill credit",
    "correction-credit": "Correction in the customer's favour",
    "correction-debit": "Correction to the customer's charge",
    "refund": "Refund",
}
"""The adjustments the console books, as the page names them."""
DONE = frozenset({"state", "adjustment", "contract"})


def adjustment_for(kind: str, amount: int, reason: str, reference: str) -> Adjustment:
    if kind == "goodwill":
        return Goodwill(amount, reason, reference)
    if kind == "refund":
        return Refund(amount, reason, reference)
    return Correction(amount if kind == "correction-credit" else -amount, reason, reference)


def _whole(text: str, *, minimum: int = 1) -> int | None:
    """A whole number typed in a form (empty: None); ValueError if it is not one."""
    text = text.strip().replace(".", "")
    if not text:
        return None
    value = int(text)
    if value < minimum:
        raise ValueError(text)
    return value


def contract_change(
    data: dict[str, str], account: Account
) -> tuple[AccountChange, Callable[[Callable[[str], str]], list[str]]]:
    """The console's contract form as a change of what differs from ``account`` (a contract
    given again as it is, without a new start, is left alone: its start stays), and how to
    say it; ValueError when a field is not what it must be or nothing would change."""
    tariff = Tariff(data.get("tariff", ""))
    kind = ContractType(data.get("contract", ""))
    modules = frozenset(m for m in Module if data.get(f"module:{m.value}") == "yes")
    starts = data.get("starts_on", "").strip()
    terms = ContractTerms(
        type=kind,
        starts_on=date.fromisoformat(starts) if starts else None,
        daily_parts=_whole(data.get("daily_parts", "")),
        monthly_parts=_whole(data.get("monthly_parts", "")),
        minimum_monthly_revenue=_amount_or_zero(data.get("minimum_monthly_revenue", "")),
        minimum_term_months=_whole(data.get("minimum_term_months", ""), minimum=0) or 0,
        base_fee=_amount_or_zero(data.get("base_fee", "")),
    )
    now = account.contract
    same_contract = terms.starts_on is None and (
        kind, terms.daily_parts, terms.monthly_parts, terms.minimum_monthly_revenue,
        terms.minimum_term_months, terms.base_fee,
    ) == (
        now.type, now.limits.daily_parts, now.limits.monthly_parts,
        now.minimum_monthly_revenue, now.minimum_term_months, now.base_fee,
    )  # fmt: skip
    change = AccountChange(
        tariff=None if tariff == account.tariff else tariff,
        contract=None if same_contract else terms,
        modules=None if modules == account.modules else modules,
    )
    if change == AccountChange():
        raise ValueError("nothing changes")

    def said(_: Callable[[str], str]) -> list[str]:
        parts = []
        if change.tariff is not None:
            parts.append(_("tariff " + tariff.value))
        if change.contract is not None:
            parts.append(_("contract " + kind.value))
            if terms.daily_parts:
                parts.append(_("at most %(n)s SMS a day") % {"n": terms.daily_parts})
            if terms.monthly_parts:
                parts.append(_("at most %(n)s SMS a month") % {"n": terms.monthly_parts})
        if change.modules is not None:
            names = ", ".join(_("module " + m.value) for m in sorted(modules)) or "–"
            parts.append(_("modules: %(names)s") % {"names": names})
        return parts

    return change, said


def _amount_or_zero(text: str) -> int:
    if not text:
        return 0
    amount = amount_of(text)
    if amount is None:
        raise ValueError(text)
    return amount


def review_text(ctx: Ctx, send_id: UUID) -> str:
    """The text a held campaign would send, as written (placeholders and all), for the
    operator who decides on it."""
    return ctx.backend.messaging.send(send_id).template.shown()


def accounts_that_messaged(ctx: Ctx, query: str) -> list[UUID]:
    """The accounts that sent to the phone number ``query`` (none if it is not one): its hash
    under each account's own secret, looked up in that account's messages alone."""
    if not PHONE_LIKE.match(query):
        return []
    try:
        e164 = ctx.numbers.parse(query).e164
    except PhoneError:
        return []
    keyring = ctx.backend.keyring
    hashes = {a: keyring.lookup_hash(a, e164) for a in q.messaging_accounts(ctx.pool)}
    return q.accounts_with_number(ctx.pool, hashes)


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
        found: list[Any] = []
        if query:
            user = ctx.backend.accounts.find_user(query)
            if user is not None and user.account_id is not None:
                return redirect(f"{STAFF}/konten/{user.account_id}")
            found = [ctx.backend.accounts.account(a) for a in accounts_that_messaged(ctx, query)]
            if len(found) == 1:
                return redirect(f"{STAFF}/konten/{found[0].id}")
        # The send just decided on may not have reached the read side yet: it is not shown.
        rows = [r for r in q.awaiting_review(ctx.pool) if r["send_id"] != decided]
        queue = [(campaign_read(ctx, row, counts=False), review_text(ctx, row["send_id"]))
                 for row in rows]  # fmt: skip
        return page(request, "staff_home", status_code=404 if query and not found else 200,
                    who=who, csrf=who.session.csrf_token, query=query, found=found,
                    not_found=bool(query) and not found,
                    queue=queue, operator=who.principal.role is Role.ADMIN,
                    decided=decided is not None)  # fmt: skip

    @get("/konten/{account_id:uuid}", sync_to_thread=True)
    def account(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        account_id: FromPath[UUID],
        booked: Annotated[int | None, QueryParameter(name="gutgeschrieben", ge=1)] = None,
        done: Annotated[str | None, QueryParameter(name="erledigt", max_length=20)] = None,
    ) -> Response[Any]:
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        return self._account_page(request, ctx, who, account_id, booked=booked,
                                  done=done if done in DONE else None)  # fmt: skip

    def _account_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, who: SignedIn, account_id: UUID,
        *, error: str | None = None, confirm: dict[str, Any] | None = None,
        status_code: int = 200, booked: int | None = None,
        change: dict[str, Any] | None = None, done: str | None = None,
    ) -> Response[Any]:  # fmt: skip
        try:
            account = ctx.backend.accounts.account(account_id)
        except AggregateNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        sends = [campaign_read(ctx, row, counts=True, overview=True)
                 for row in q.sends(ctx.pool, account_id, None, None, RECENT_SENDS)]  # fmt: skip
        since = ctx.now().astimezone(BERLIN).date() - timedelta(days=JOURNAL_DAYS)
        lines = statement_lines(ctx, account_id, since, None, None, JOURNAL_LINES)
        return page(request, "staff_account", status_code=status_code, who=who,
                    lines=lines, more_lines=len(lines) == JOURNAL_LINES,
                    csrf=who.session.csrf_token, account=account,
                    balance=balance_read(ctx, account_id), sends=sends, error=error,
                    confirm=confirm, methods=list(PaymentMethod), booked=booked,
                    users=ctx.team.members(account_id).users, change=change,
                    tariffs=list(Tariff), modules=list(Module), contracts=list(ContractType),
                    adjustments=ADJUSTMENTS, done=done,
                    operator=who.principal.role is Role.ADMIN)  # fmt: skip

    @get("/konten/{account_id:uuid}/verlauf", sync_to_thread=True)
    def history(
        self, request: Request[Any, Any, Any], ctx: Ctx, account_id: FromPath[UUID],
        until: Annotated[datetime | None, QueryParameter(name="bis")] = None,
    ) -> Response[Any]:  # fmt: skip
        """The account's whole history in order, as replayed from its events (personal data
        redacted), and the account and its credit as they were at a past moment."""
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        try:
            moment = past_moment(until, ctx.recorded_now())
            service = account_history(ctx)
            entries = service.entries(account_id, personal=False)
            then = service.account_as_of(account_id, moment) if moment else None
            balance = balance_read(ctx, account_id, moment) if moment else None
        except AggregateNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return page(request, "refused", status_code=refused.status, who=who,
                        csrf=who.session.csrf_token, detail=refused.detail,
                        back=f"{STAFF}/konten/{account_id}/verlauf")  # fmt: skip
        if moment is not None:
            entries = [e for e in entries if e.at <= moment]
        return page(request, "staff_history", who=who, csrf=who.session.csrf_token,
                    account_id=account_id, entries=entries, moment=moment, then=then,
                    balance=balance, until=until)  # fmt: skip

    @get("/auftraege/{send_id:uuid}", sync_to_thread=True)
    def send(
        self, request: Request[Any, Any, Any], ctx: Ctx, send_id: FromPath[UUID],
        state_: Annotated[str | None, QueryParameter(name="state")] = None,
        after: FromQuery[int] = -1,
    ) -> Response[Any]:  # fmt: skip
        """A send of any account as its customer sees it, its messages opening the staff
        console's message page."""
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        try:
            row = own_send(ctx, who.principal, send_id)
        except SendNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        chosen = state_ if state_ in {s.value for s in MessageState} else None
        read = campaign_read(ctx, row, counts=True)
        rows = q.messages_of_send(ctx.pool, send_id, chosen, max(after, -1), MESSAGES_PER_PAGE)
        messages = [message_row(m) for m in rows]
        more = messages[-1].index if len(messages) == MESSAGES_PER_PAGE else None
        return page(request, "send", who=who, csrf=who.session.csrf_token, send=read,
                    colours=colour_counts(read.counts), messages=messages, state=chosen,
                    states=sorted(read.counts), more=more, may_cancel=False, cancelled=False,
                    base=STAFF, all_sends=f"{STAFF}/konten/{row['account_id']}")  # fmt: skip

    @get("/auftraege/{send_id:uuid}/verlauf.svg", sync_to_thread=True)
    def chart(
        self, request: Request[Any, Any, Any], ctx: Ctx, send_id: FromPath[UUID]
    ) -> Response[Any]:
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        return send_chart(request, ctx, who, send_id)

    @get("/nachrichten/{message_id:uuid}", sync_to_thread=True)
    def message(
        self, request: Request[Any, Any, Any], ctx: Ctx, message_id: FromPath[UUID],
        until: Annotated[datetime | None, QueryParameter(name="bis")] = None,
    ) -> Response[Any]:  # fmt: skip
        """A message of any account with its whole history and the carrier's raw status, up
        to a past moment if one is given."""
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        try:
            moment = past_moment(until, ctx.recorded_now())
            detail = message_detail(ctx, message_row_seen(ctx, who.principal, message_id))
        except REFUSALS as exc:
            refused = refusal_of(exc)
            if refused.status == 404:
                return page(request, "not_found", status_code=404, who=who,
                            csrf=who.session.csrf_token)  # fmt: skip
            return page(request, "refused", status_code=refused.status, who=who,
                        csrf=who.session.csrf_token, detail=refused.detail,
                        back=f"{STAFF}/nachrichten/{message_id}")  # fmt: skip
        if moment is not None:
            detail.history = [e for e in detail.history if e.at <= moment]
        return page(request, "message", who=who, csrf=who.session.csrf_token, detail=detail,
                    base=STAFF, staff=True, moment=moment, until=until)  # fmt: skip

    @get("/empfangsberichte", sync_to_thread=True)
    def unmatched(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        number: Annotated[str | None, QueryParameter(name="nummer", max_length=64)] = None,
        carrier_id: Annotated[str | None, QueryParameter(name="kennung", max_length=100)] = None,
        after: Annotated[str | None, QueryParameter(name="nach", max_length=200)] = None,
    ) -> Response[Any]:  # fmt: skip
        """Delivery reports that matched no sent message, kept for support."""
        who = require_staff(request, ctx)
        if isinstance(who, Response):
            return who
        if who.principal.role not in {Role.ADMIN, Role.SUPPORT}:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        number, carrier_id = (number or "").strip() or None, (carrier_id or "").strip() or None
        error, status = None, 200
        try:
            found = unmatched_page(ctx, number, carrier_id, None, None, after, RECEIPTS_PER_PAGE)
            receipts, more = found.receipts, found.next_cursor
        except REFUSALS as exc:
            refused = refusal_of(exc)
            receipts, more, error, status = [], None, refused.detail, refused.status
        query = urlencode({k: v for k, v in (("nummer", number), ("kennung", carrier_id)) if v})
        return page(request, "unmatched", status_code=status, who=who,
                    csrf=who.session.csrf_token, receipts=receipts, more=more, error=error,
                    searched=number or "", carrier_id=carrier_id or "", query=query)  # fmt: skip

    def _confirm_or_do(
        self, request: Request[Any, Any, Any], ctx: Ctx, who: SignedIn, account_id: UUID,
        data: dict[str, str], summary: str, action: Callable[[], object], done: str,
    ) -> Response[Any]:  # fmt: skip
        """An operator's action: first the page asks for a confirmation that says what will
        happen (``summary``), with the form's fields again; then it is done and recorded."""
        if data.get("confirmed") != "yes":
            fields = {k: v for k, v in data.items() if k not in {"csrf_token", "confirmed"}}
            change = {"action": str(request.url.path), "fields": fields, "summary": summary}
            return self._account_page(request, ctx, who, account_id, change=change)
        try:
            action()
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._account_page(request, ctx, who, account_id, status_code=refused.status,
                                      error=refused.detail)  # fmt: skip
        return redirect(f"{STAFF}/konten/{account_id}?erledigt={done}")

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
        except ValueError:
            wanted = None
        if wanted is None or not reason:
            return self._account_page(request, ctx, who, account_id, status_code=422,
                                      error="state-form")  # fmt: skip
        _ = texts(request).gettext
        summary = _("Set the account's state to %(state)s, because: %(reason)s") % {
            "state": _("account " + wanted.value), "reason": reason}  # fmt: skip
        change = AccountChange(state=wanted, reason=reason)
        return self._confirm_or_do(
            request, ctx, who, account_id, data, summary,
            lambda: ctx.administration.administer(account_id, change, who.principal.actor,
                                                  ctx.now()), "state")  # fmt: skip

    @post("/konten/{account_id:uuid}/korrektur", sync_to_thread=True, status_code=200)
    def adjust(
        self, request: Request[Any, Any, Any], ctx: Ctx, account_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        """Goodwill credit, a correction (credit or debit) or a refund, with reason and
        reference (the reference makes a repeated form one booking)."""
        who = self._operator(request, ctx, data)
        if isinstance(who, Response):
            return who
        amount = amount_of(data.get("amount", ""))
        reason, reference = data.get("reason", "").strip(), data.get("reference", "").strip()
        kind = data.get("kind", "")
        if amount is None or not reason or not reference or kind not in ADJUSTMENTS:
            return self._account_page(request, ctx, who, account_id, status_code=422,
                                      error="adjustment-form")  # fmt: skip
        adjustment = adjustment_for(kind, amount, reason, reference)
        _ = texts(request).gettext
        shown = texts(request).money
        summary = _("%(kind)s of %(amount)s, reference %(reference)s, because: %(reason)s") % {
            "kind": _(ADJUSTMENTS[kind]), "amount": shown(amount), "reference": reference,
            "reason": reason}  # fmt: skip
        return self._confirm_or_do(
            request, ctx, who, account_id, data, summary,
            lambda: ctx.credits.adjust(account_id, adjustment, who.principal.actor, ctx.now()),
            "adjustment")  # fmt: skip

    @post("/konten/{account_id:uuid}/vertrag", sync_to_thread=True, status_code=200)
    def contract(
        self, request: Request[Any, Any, Any], ctx: Ctx, account_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        """The tariff, the unlocked modules and the contract with its limits."""
        who = self._operator(request, ctx, data)
        if isinstance(who, Response):
            return who
        try:
            change, said = contract_change(data, ctx.backend.accounts.account(account_id))
        except AggregateNotFoundError:
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        except ValueError:
            return self._account_page(request, ctx, who, account_id, status_code=422,
                                      error="contract-form")  # fmt: skip
        _ = texts(request).gettext
        summary = _("Change account %(number)s to: %(terms)s") % {
            "number": self._number(ctx, account_id), "terms": ", ".join(said(_))}  # fmt: skip
        return self._confirm_or_do(
            request, ctx, who, account_id, data, summary,
            lambda: ctx.administration.administer(account_id, change, who.principal.actor,
                                                  ctx.now()), "contract")  # fmt: skip

    def _number(self, ctx: Ctx, account_id: UUID) -> str:
        try:
            return ctx.backend.accounts.account(account_id).number or str(account_id)
        except AggregateNotFoundError:
            return str(account_id)

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
