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
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from adapters.jetstream.outbox import publish_now
from api.auth import Need
from api.context import Ctx
from api.errors import REFUSALS
from api.preview import MAX_RECIPIENTS, PreviewRequest, PreviewResponse, run_preview
from api.send_views import local
from api.web.forms import SECURITY_HEADERS, check_session_form, page, refusal_of, texts
from api.web.pages import Customer, require_customer
from api.wiring import pricing_context_for
from domain.messaging.records import Lane
from domain.pricing.preview import PreviewRules, Recipient
from services.acceptance import SendRequest

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SEPARATORS = re.compile(r"[\r\n,;]+")
"""Between numbers: line breaks, commas, semicolons (spaces are inside numbers: 0151 234...)."""
SHOWN_ROWS = 10
"""Recipients the preview lists one by one (those with a problem first)."""


@dataclass(frozen=True)
class Draft:
    """What the form holds, as typed."""

    text: str = ""
    sender: str = ""
    numbers: str = ""
    send_at: str = ""
    normalize: bool = False

    @classmethod
    def of(cls, form: dict[str, str]) -> Draft:
        return cls(
            text=form.get("text", "").replace("\r\n", "\n"),
            sender=form.get("sender", "").strip(),
            numbers=form.get("numbers", ""),
            send_at=form.get("send_at", "").strip(),
            normalize=form.get("normalize") == "yes",
        )

    @property
    def recipients(self) -> list[str]:
        return [n.strip() for n in SEPARATORS.split(self.numbers) if n.strip()]


@dataclass(frozen=True)
class Checked:
    """A draft's preview, or what is wrong with it (``error``), and when it goes."""

    preview: PreviewResponse | None
    error: str | None
    send_at: datetime | None = None


def form_problem(draft: Draft, now: datetime) -> tuple[str | None, datetime | None]:
    """What the form lacks before any preview (a code ``_problem_text`` says), and when the
    send goes (None: now)."""
    numbers = draft.recipients
    problem = None
    if not draft.text.strip():
        problem = "text"
    elif not numbers:
        problem = "numbers"
    elif not draft.sender:
        problem = "sender"
    elif len(numbers) > MAX_RECIPIENTS:
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
    draft: Draft, customer: Customer, ctx: Ctx, rules: PreviewRules, now: datetime
) -> Checked:
    problem, send_at = form_problem(draft, now)
    if problem is not None:
        return Checked(None, problem)
    body = {
        "text": draft.text,
        "recipients": [{"number": n} for n in draft.recipients],
        "normalize": draft.normalize,
        "sender": draft.sender,
    }
    try:
        request = msgspec.convert(body, PreviewRequest)
        pricing = pricing_context_for(ctx, customer.signed_in.principal)
        preview = run_preview(request, rules, pricing, now)
    except msgspec.ValidationError as exc:
        return Checked(None, str(exc))
    except REFUSALS as exc:
        refused = refusal_of(exc)
        return Checked(None, refused.detail)
    return Checked(preview, None, send_at)


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
    }
    return known.get(code or "", code)


class ComposePages(Controller):
    path = "/app/senden"

    def _page(
        self, request: Request[Any, Any, Any], customer: Customer, draft: Draft,
        checked: Checked | None, status_code: int = 200,
    ) -> Template:  # fmt: skip
        who = customer.signed_in
        may_send = who.principal.access in Need.SEND.value
        preview = checked.preview if checked else None
        return page(request, "compose", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, draft=draft, may_send=may_send,
                    preview=preview, rows=shown_rows(preview) if preview else [],
                    error=_problem_text(request, checked.error) if checked else None)  # fmt: skip

    @get("/", sync_to_thread=True)
    def compose(self, request: Request[Any, Any, Any], ctx: Ctx) -> Template:
        return self._page(request, require_customer(request, ctx), Draft(), None)

    @post("/vorschau", sync_to_thread=True, status_code=200)
    def live_preview(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: Form,
        preview_rules: NamedDependency[PreviewRules], now: NamedDependency[datetime],
    ) -> Template:  # fmt: skip
        customer = require_customer(request, ctx)
        check_session_form(data, customer.signed_in)
        checked = check(Draft.of(data), customer, ctx, preview_rules, now)
        return page(request, "_preview", preview=checked.preview,
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
            status = 422 if checked.error else 200
            return self._page(request, customer, draft, checked, status_code=status)
        if who.principal.access not in Need.SEND.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        if action != "send":
            return page(request, "confirm", who=who, csrf=who.session.csrf_token, draft=draft,
                        preview=checked.preview, send_at=checked.send_at,
                        key=str(uuid.uuid4()))  # fmt: skip
        return self._send(request, ctx, customer, draft, checked, data.get("key") or None)

    def _send(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, draft: Draft,
        checked: Checked, key: str | None,
    ) -> Response[Any]:  # fmt: skip
        numbers = draft.recipients
        send_request = SendRequest(
            account_id=customer.account_id,
            lane=Lane.TRANSACTIONAL if len(numbers) == 1 else Lane.BULK,
            text=draft.text,
            sender=draft.sender,
            recipients=[Recipient(n) for n in numbers],
            schedule_at=checked.send_at,
            normalize=draft.normalize,
            idempotency_key=f"web:{key}" if key else None,
        )
        try:
            accepted = ctx.acceptance.accept(send_request, ctx.now())
        except REFUSALS as exc:
            refused = refusal_of(exc)
            said = Checked(checked.preview, refused.detail)
            return self._page(request, customer, draft, said, status_code=refused.status)
        publish = None
        if accepted.recorded_chunks:  # as the API does: out at once, the relay as the net
            publish = BackgroundTask(publish_now, request.app.state.resources.nats,
                                     ctx.topology, accepted.recorded_chunks)  # fmt: skip
        return Redirect(f"/app/auftraege/{accepted.send.id}", status_code=303,
                        headers=SECURITY_HEADERS, background=publish)  # fmt: skip
