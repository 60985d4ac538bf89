"""Composing a send in the application ("SMS versenden"): the form, its live preview, the
confirmation that names the cost, and the send.

The preview is the API's (``api.preview.run_preview``): the very figures the send will be
charged, with the account's tariff, month volume and verdicts. The form is decoded into the
API's own request shapes, so it refuses what the API refuses. Without script the preview comes
with a button; ``static/compose.js`` asks for it (``/app/senden/vorschau``, an HTML fragment)
as the user types. The confirmation carries an idempotency key: sending the same confirmation
twice (a double click, a reload) makes one send.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from adapters.jetstream.outbox import publish_now
from api import list_campaigns as accepting
from api.auth import Need
from api.contacts_support import list_read, services
from api.context import Ctx
from api.errors import REFUSALS
from api.list_campaigns import list_acceptance
from api.preview import MAX_RECIPIENTS, PreviewRequest, PreviewResponse, run_preview
from api.schemas.contacts import ListRead
from api.send_views import local
from api.web.forms import SECURITY_HEADERS, check_session_form, page, redirect, refusal_of, texts
from api.web.pages import Customer, require_customer
from api.wiring import pricing_context_for
from domain.contacts.exceptions import ListImportingError
from domain.messaging.exceptions import NoRecipientsError
from domain.messaging.list_acceptance import AcceptanceJob
from domain.messaging.records import Lane
from domain.money import vat_on
from domain.pricing.preview import PreviewRules, Recipient
from services.acceptance import SendRequest

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SEPARATORS = re.compile(r"[\r\n,;]+")
"""Between numbers: line breaks, commas, semicolons (spaces are inside numbers: 0151 234...)."""
SHOWN_ROWS = 10
"""Recipients the preview lists one by one (those with a problem first)."""
LIST_SAMPLE = 200
"""A list's recipients the live preview renders and prices (the confirmation prices all)."""


@dataclass(frozen=True)
class Draft:
    """What the form holds, as typed."""

    text: str = ""
    sender: str = ""
    numbers: str = ""
    send_at: str = ""
    normalize: bool = False
    list_id: str = ""
    """A list of the account to send to instead of ``numbers`` (empty: the numbers)."""

    @classmethod
    def of(cls, form: dict[str, str]) -> Draft:
        return cls(
            text=form.get("text", "").replace("\r\n", "\n"),
            sender=form.get("sender", "").strip(),
            numbers=form.get("numbers", ""),
            send_at=form.get("send_at", "").strip(),
            normalize=form.get("normalize") == "yes",
            list_id=form.get("list_id", "").strip(),
        )

    @property
    def recipients(self) -> list[str]:
        return [n.strip() for n in SEPARATORS.split(self.numbers) if n.strip()]

    @property
    def list_uuid(self) -> UUID | None:
        """The chosen list's id; None for the numbers or when it is not an id."""
        try:
            return UUID(self.list_id) if self.list_id else None
        except ValueError:
            return None


@dataclass(frozen=True)
class Checked:
    """A draft's preview, or what is wrong with it (``error``), and when it goes."""

    preview: PreviewResponse | None
    error: str | None
    send_at: datetime | None = None
    listed: ListRead | None = None
    """The list sent to; the preview is of its first ``LIST_SAMPLE`` recipients."""
    status: int = 422
    """The answer's status when there is an ``error``."""

    @property
    def estimate(self) -> int | None:
        """The list's net total as its sample's average price per recipient says (the
        confirmation prices every recipient)."""
        if self.listed is None or self.preview is None or not self.preview.recipients_ok:
            return None
        per_recipient = Fraction(self.preview.total_price, self.preview.recipients_ok)
        return round(per_recipient * self.listed.recipients)


@dataclass(frozen=True)
class Cost:
    """What the confirmation names: recipients sent to, SMS, net and gross, those skipped."""

    recipients: int
    parts: int
    net: int
    gross: int
    skipped: dict[str, int]

    @classmethod
    def of_preview(cls, preview: PreviewResponse) -> Cost:
        return cls(preview.recipients_ok, preview.segments, preview.total_price,
                   preview.total_gross, {})  # fmt: skip

    @classmethod
    def of_quote(cls, quote: AcceptanceJob) -> Cost:
        net = quote.expected
        return cls(quote.staged, quote.parts, net, net + vat_on(net), dict(quote.skipped))


def form_problem(draft: Draft, now: datetime) -> tuple[str | None, datetime | None]:
    """What the form lacks before any preview (a code ``_problem_text`` says), and when the
    send goes (None: now)."""
    numbers = draft.recipients
    listed = bool(draft.list_id)
    problem = None
    if not draft.text.strip():
        problem = "text"
    elif listed and draft.list_uuid is None:
        problem = "list"
    elif not listed and not numbers:
        problem = "numbers"
    elif not draft.sender:
        problem = "sender"
    elif not listed and len(numbers) > MAX_RECIPIENTS:
        problem = "too-many"
    send_at = None
    if problem is None and draft.send_at:
        try:
            send_at = local(datetime.fromisoformat(draft.send_at))
        except ValueError:
            problem = "send_at"
        if send_at is not None and send_at <= now:
            problem = "send_at"
    return problem, send_at


def check(
    draft: Draft, customer: Customer, ctx: Ctx, rules: PreviewRules, now: datetime,
    *, as_typed: bool = False,
) -> Checked:  # fmt: skip
    problem, send_at = form_problem(draft, now)
    if send_at is not None and send_at > now + ctx.acceptance.schedule_horizon:
        problem = "send_at-far"
    if problem is not None:
        return Checked(None, problem)
    listed = None
    try:
        if draft.list_uuid is not None:
            listed, recipients = list_sample(ctx, customer.account_id, draft.list_uuid)
        else:
            recipients = [{"number": n} for n in draft.recipients]
        body = {"text": draft.text, "recipients": recipients, "normalize": draft.normalize,
                "sender": draft.sender}  # fmt: skip
        request = msgspec.convert(body, PreviewRequest)
        pricing = pricing_context_for(ctx, customer.signed_in.principal, as_typed=as_typed)
        preview = run_preview(request, rules, pricing, now)
    except msgspec.ValidationError as exc:
        return Checked(None, str(exc), listed=listed)
    except REFUSALS as exc:
        refused = refusal_of(exc)
        return Checked(None, refused.detail, listed=listed, status=refused.status)
    return Checked(preview, None, send_at, listed)


def list_sample(ctx: Ctx, account_id: UUID, list_id: UUID) -> tuple[ListRead, list[dict[str, Any]]]:
    """The account's list and its first ``LIST_SAMPLE`` recipients as a preview takes them;
    ``NoRecipientsError`` for an empty list, the list's refusals for another's or one that is
    being imported."""
    listed = list_read(services(ctx).lists.get_list(account_id, list_id))
    if listed.importing:
        raise ListImportingError(list_id)
    sample = list_acceptance(ctx).lists.chunk(account_id, list_id, 0, LIST_SAMPLE)
    if not sample:
        raise NoRecipientsError(0)
    return listed, [{"number": r.e164, "fields": dict(r.fields)} for r in sample]


def account_lists(ctx: Ctx, account_id: UUID) -> list[ListRead]:
    return [list_read(r) for r in services(ctx).lists.lists_page(account_id, None, 1000)]


def shown_rows(preview: PreviewResponse) -> list[Any]:
    rows = sorted(preview.recipients, key=lambda r: r.error is None)
    return rows[:SHOWN_ROWS]


def _problem_text(request: Request[Any, Any, Any], code: str | None) -> str | None:
    _ = texts(request).gettext
    known = {
        "text": _("Write the text of the message."),
        "numbers": _("Give at least one recipient's number."),
        "sender": _("Give the sender ID the recipients see."),
        "too-many": _("At most 10,000 numbers at once; upload a list for more."),
        "send_at": _("Give a date and time in the future (Europe/Berlin), or none to send now."),
        "list": _("Choose one of your lists, or type the numbers."),
        "send_at-far": _("That is further ahead than a send can be scheduled."),
    }
    return known.get(code or "", code)


class ComposePages(Controller):
    path = "/app/senden"

    def _page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, draft: Draft,
        checked: Checked | None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        who = customer.signed_in
        may_send = who.principal.access in Need.SEND.value
        preview = checked.preview if checked else None
        return page(request, "compose", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, draft=draft, may_send=may_send,
                    lists=account_lists(ctx, customer.account_id), checked=checked,
                    preview=preview, rows=shown_rows(preview) if preview else [],
                    error=_problem_text(request, checked.error) if checked else None)  # fmt: skip

    @get("/", sync_to_thread=True)
    def compose(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        list_id: Annotated[UUID | None, QueryParameter(name="liste")] = None,
    ) -> Template:  # fmt: skip
        draft = Draft(list_id=str(list_id) if list_id else "")
        return self._page(request, ctx, require_customer(request, ctx), draft, None)

    @post("/vorschau", sync_to_thread=True, status_code=200)
    def live_preview(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: Form,
        preview_rules: NamedDependency[PreviewRules], now: NamedDependency[datetime],
    ) -> Template:  # fmt: skip
        customer = require_customer(request, ctx)
        check_session_form(data, customer.signed_in)
        checked = check(Draft.of(data), customer, ctx, preview_rules, now, as_typed=True)
        return page(request, "_preview", preview=checked.preview, checked=checked,
                    rows=shown_rows(checked.preview) if checked.preview else [],
                    error=_problem_text(request, checked.error))  # fmt: skip

    @post("/", sync_to_thread=True, status_code=200)
    def submit(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: Form,
        preview_rules: NamedDependency[PreviewRules], now: NamedDependency[datetime],
    ) -> Response[Any]:  # fmt: skip
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        draft = Draft.of(data)
        checked = check(draft, customer, ctx, preview_rules, now)
        action = data.get("action", "preview")
        if checked.preview is None or action == "preview" or not checked.preview.recipients_ok:
            status = checked.status if checked.error else 200
            return self._page(request, ctx, customer, draft, checked, status_code=status)
        if who.principal.access not in Need.SEND.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        key = data.get("key") or None
        send_request = self._request(customer, draft, checked, key)
        try:
            if action != "send":
                cost = Cost.of_preview(checked.preview)
                if send_request.list_id is not None:  # every recipient priced, as accepted
                    cost = Cost.of_quote(list_acceptance(ctx).quote(send_request, now))
                return page(request, "confirm", who=who, csrf=who.session.csrf_token,
                            draft=draft, cost=cost, send_at=checked.send_at,
                            listed=checked.listed, key=str(uuid.uuid4()))  # fmt: skip
            if send_request.list_id is not None:  # accepted in the background
                begun, _ = accepting.begin(ctx, send_request)
                return redirect(f"/app/auftraege/{begun.campaign_id}")
            accepted = ctx.acceptance.accept(send_request, ctx.now())
        except REFUSALS as exc:
            refused = refusal_of(exc)
            said = Checked(checked.preview, refused.detail, checked.send_at, checked.listed)
            return self._page(request, ctx, customer, draft, said, status_code=refused.status)
        publish = None
        if accepted.recorded_chunks:  # as the API does: out at once, the relay as the net
            publish = BackgroundTask(publish_now, request.app.state.resources.nats,
                                     ctx.topology, accepted.recorded_chunks)  # fmt: skip
        return Redirect(f"/app/auftraege/{accepted.send.id}", status_code=303,
                        headers=SECURITY_HEADERS, background=publish)  # fmt: skip

    def _request(
        self, customer: Customer, draft: Draft, checked: Checked, key: str | None
    ) -> SendRequest:
        numbers = [] if checked.listed else draft.recipients
        return SendRequest(
            account_id=customer.account_id,
            lane=Lane.TRANSACTIONAL if len(numbers) == 1 else Lane.BULK,
            text=draft.text,
            sender=draft.sender,
            recipients=[Recipient(n) for n in numbers],
            schedule_at=checked.send_at,
            normalize=draft.normalize,
            idempotency_key=f"web:{key}" if key else None,
            list_id=checked.listed.id if checked.listed else None,
            name=checked.listed.name if checked.listed else "",
        )
