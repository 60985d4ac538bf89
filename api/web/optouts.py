"""The opt-out list and erasure in the application ("Abmeldungen", "Datenschutz"): numbers on
the opt-out list are never sent to; a number is put on it, found, and taken off it with a
reason that is recorded with who asked; the owner erases a person by number from the whole
account (GDPR Art. 17). The privacy service the API's ``/v1/opt-outs`` and
``/v1/privacy/erasures`` use, with their roles: every role reads, owners and senders change
the list, the owner alone erases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from api.auth import Need
from api.contacts_support import encode_cursor, hash_cursor, opt_out_read, services
from api.context import Ctx
from api.errors import REFUSALS
from api.web.forms import Refusal, check_session_form, done_or_refused, page, refusal_of
from api.web.pages import Customer, require_customer
from domain.inbound.stop import stop_words

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
OPT_OUTS = "/app/sperrliste"
PER_PAGE = 50


class OptOutPages(Controller):
    path = OPT_OUTS

    @get("/", sync_to_thread=True)
    def opt_outs(
        self, request: Request[Any, Any, Any], ctx: Ctx,
        number: Annotated[str | None, QueryParameter(name="nummer", max_length=64)] = None,
        after: Annotated[str | None, QueryParameter(name="nach", max_length=200)] = None,
    ) -> Response[Any]:  # fmt: skip
        customer = require_customer(request, ctx)
        return self._page(request, ctx, customer, number=number, after=after)

    def _page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, *,
        number: str | None = None, after: str | None = None, error: str | None = None,
        notice: str | None = None, erased: Any = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        number = (number or "").strip() or None
        try:
            rows = services(ctx).privacy.opt_outs_page(
                customer.account_id, after=hash_cursor(after), limit=PER_PAGE, number=number
            )
        except REFUSALS as exc:  # a search for what is no number, a cursor not made here
            refused = refusal_of(exc)
            rows, error, status_code = [], refused.detail, refused.status
        last = rows[-1] if len(rows) == PER_PAGE else None
        more = encode_cursor(last.created_at, last.number_hash.hex()) if last else None
        return page(request, "opt_outs", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, opt_outs=[opt_out_read(r) for r in rows],
                    searched=number or "", more=more, error=error, notice=notice,
                    erased=erased, may_write=who.principal.access in Need.SEND.value,
                    stop_words=sorted(ctx.backend.accounts.account(customer.account_id).stop_words),
                    may_erase=who.principal.access in Need.OWNER.value)  # fmt: skip

    def _refused(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer
    ) -> Callable[[Refusal], Response[Any]]:
        """How the page says a refusal: at its form, with the list."""
        return lambda refused: self._page(request, ctx, customer, error=refused.detail,
                                          status_code=refused.status)  # fmt: skip

    def _allowed(
        self, request: Request[Any, Any, Any], ctx: Ctx, data: dict[str, str], need: Need
    ) -> Customer | Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        check_session_form(data, who)
        if who.principal.access not in need.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return customer

    @post("/", sync_to_thread=True, status_code=200)
    def add(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._allowed(request, ctx, data, Need.SEND)
        if isinstance(customer, Response):
            return customer
        return done_or_refused(
            lambda: services(ctx).privacy.opt_out(
                customer.account_id, data.get("number", ""),
                actor=customer.signed_in.principal.actor, source="customer", now=ctx.now()),
            self._refused(request, ctx, customer), OPT_OUTS)  # fmt: skip

    @post("/{opt_out_id:uuid}/entfernen", sync_to_thread=True, status_code=200)
    def withdraw(
        self, request: Request[Any, Any, Any], ctx: Ctx, opt_out_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = self._allowed(request, ctx, data, Need.SEND)
        if isinstance(customer, Response):
            return customer
        reason = " ".join(data.get("reason", "").split())
        if not reason:
            return self._page(request, ctx, customer, error="reason", status_code=422)
        return done_or_refused(
            lambda: services(ctx).privacy.withdraw(
                customer.account_id, opt_out_id, actor=customer.signed_in.principal.actor,
                reason=reason[:500]),
            self._refused(request, ctx, customer), OPT_OUTS)  # fmt: skip

    @post("/stoppwoerter", sync_to_thread=True, status_code=200)
    def words(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        """The account's own STOP words, typed separated by spaces or commas."""
        customer = self._allowed(request, ctx, data, Need.SEND)
        if isinstance(customer, Response):
            return customer
        typed = data.get("words", "").replace(",", " ").split()
        return done_or_refused(
            lambda: ctx.backend.accounts.change_stop_words(
                customer.account_id, stop_words(typed), customer.signed_in.principal.actor),
            self._refused(request, ctx, customer), OPT_OUTS)  # fmt: skip

    @post("/loeschen", sync_to_thread=True, status_code=200)
    def erase(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._allowed(request, ctx, data, Need.OWNER)
        if isinstance(customer, Response):
            return customer
        if data.get("confirm") != "yes":
            return self._page(request, ctx, customer, error="confirm", status_code=422)
        try:
            erased = services(ctx).privacy.erase(
                customer.account_id,
                data.get("number", ""),
                actor=customer.signed_in.principal.actor,
            )
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._page(request, ctx, customer, error=refused.detail,
                              status_code=refused.status)  # fmt: skip
        return self._page(request, ctx, customer, erased=erased)
