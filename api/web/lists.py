"""Lists and their imports in the application ("Listen & Adressen"): the account's lists, a new
one, a list's page with its recipients (found by number, paged, added by pasting numbers,
edited and removed one by one), the upload of a TXT or CSV file (the template to start from,
the export of what is in it), and an import's page with its progress while it runs and its
rejected lines with their reasons. The contact services the API's ``/v1/lists`` use."""

from __future__ import annotations

import itertools
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter

from adapters.contacts.import_service import MAX_UPLOAD_BYTES
from api.auth import Need
from api.contacts_support import import_read, list_read, recipient_read, services
from api.context import Ctx
from api.errors import REFUSALS
from api.web.forms import check_session_form, page, redirect, refusal_of
from api.web.pages import Customer, require_customer

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
LISTS = "/app/listen"
SHOWN_REJECTIONS = 50
RECIPIENTS_PER_PAGE = 50


class ListPages(Controller):
    path = LISTS

    def _sender(self, request: Request[Any, Any, Any], ctx: Ctx) -> Customer | Response[Any]:
        """As ``/v1/lists``: every role reads, owners and senders change."""
        customer = require_customer(request, ctx)
        who = customer.signed_in
        if who.principal.access not in Need.SEND.value:
            return page(request, "not_allowed", status_code=403, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return customer

    @get("/", sync_to_thread=True)
    def lists(self, request: Request[Any, Any, Any], ctx: Ctx) -> Response[Any]:
        return self._lists_page(request, ctx, require_customer(request, ctx))

    def _lists_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer,
        error: str | None = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        rows = services(ctx).lists.lists_page(customer.account_id, None, 1000)
        return page(request, "lists", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, lists=[list_read(r) for r in rows],
                    error=error, may_write=who.principal.access in Need.SEND.value)  # fmt: skip

    @post("/", sync_to_thread=True, status_code=200)
    def create(self, request: Request[Any, Any, Any], ctx: Ctx, data: Form) -> Response[Any]:
        customer = self._sender(request, ctx)
        if isinstance(customer, Response):
            return customer
        who = customer.signed_in
        check_session_form(data, who)
        try:
            row = services(ctx).lists.create_list(customer.account_id, data.get("name", ""),
                                                  who.principal.actor, ctx.now())  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._lists_page(request, ctx, customer, refused.detail, refused.status)
        return redirect(f"{LISTS}/{row.id}")

    @get("/{list_id:uuid}", sync_to_thread=True)
    def one(
        self, request: Request[Any, Any, Any], ctx: Ctx, list_id: FromPath[UUID],
        number: Annotated[str | None, QueryParameter(name="nummer", max_length=64)] = None,
        after: Annotated[int, QueryParameter(name="nach", ge=0)] = 0,
    ) -> Response[Any]:  # fmt: skip
        customer = require_customer(request, ctx)
        return self._list_page(request, ctx, customer, list_id, number=number, after=after)

    def _list_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, list_id: UUID,
        error: str | None = None, status_code: int = 200, *, number: str | None = None,
        after: int = 0, pasted: Any = None,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        lists = services(ctx).lists
        number = (number or "").strip() or None
        try:
            row = lists.get_list(customer.account_id, list_id)
        except REFUSALS as exc:
            refusal_of(exc, only=404)
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        try:
            found = lists.recipients_page(customer.account_id, list_id, after=after,
                                          limit=RECIPIENTS_PER_PAGE, number=number)  # fmt: skip
        except REFUSALS as exc:  # a search for what is no number
            found, error, status_code = [], refusal_of(exc).detail, 422
        more = found[-1].id if len(found) == RECIPIENTS_PER_PAGE else None
        return page(request, "list", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, list=list_read(row), error=error,
                    recipients=[recipient_read(r) for r in found], searched=number or "",
                    more=more, pasted=pasted,
                    may_write=who.principal.access in Need.SEND.value)  # fmt: skip

    @post("/{list_id:uuid}/empfaenger", sync_to_thread=True, status_code=200)
    def add(
        self, request: Request[Any, Any, Any], ctx: Ctx, list_id: FromPath[UUID], data: Form
    ) -> Response[Any]:
        customer = self._sender(request, ctx)
        if isinstance(customer, Response):
            return customer
        check_session_form(data, customer.signed_in)
        try:
            pasted = services(ctx).lists.paste(customer.account_id, list_id,
                                               data.get("pasted", ""), ctx.now())  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._list_page(request, ctx, customer, list_id, refused.detail,
                                   refused.status)  # fmt: skip
        return self._list_page(request, ctx, customer, list_id, pasted=pasted)

    @get("/{list_id:uuid}/empfaenger/{recipient_id:int}", sync_to_thread=True)
    def recipient(
        self, request: Request[Any, Any, Any], ctx: Ctx, list_id: FromPath[UUID],
        recipient_id: FromPath[int],
    ) -> Response[Any]:  # fmt: skip
        customer = self._sender(request, ctx)
        if isinstance(customer, Response):
            return customer
        return self._recipient_page(request, ctx, customer, list_id, recipient_id)

    def _recipient_page(
        self, request: Request[Any, Any, Any], ctx: Ctx, customer: Customer, list_id: UUID,
        recipient_id: int, error: str | None = None, status_code: int = 200,
    ) -> Response[Any]:  # fmt: skip
        who = customer.signed_in
        lists = services(ctx).lists
        try:
            listed = list_read(lists.get_list(customer.account_id, list_id))
            found = recipient_read(lists.recipient(customer.account_id, list_id, recipient_id))
        except REFUSALS as exc:
            refusal_of(exc, only=404)
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        return page(request, "recipient", status_code=status_code, who=who,
                    csrf=who.session.csrf_token, list=listed, recipient=found,
                    error=error)  # fmt: skip

    @post("/{list_id:uuid}/empfaenger/{recipient_id:int}", sync_to_thread=True, status_code=200)
    def change(
        self, request: Request[Any, Any, Any], ctx: Ctx, list_id: FromPath[UUID],
        recipient_id: FromPath[int], data: Form,
    ) -> Response[Any]:  # fmt: skip
        customer = self._sender(request, ctx)
        if isinstance(customer, Response):
            return customer
        check_session_form(data, customer.signed_in)
        lists = services(ctx).lists
        try:
            if data.get("action") == "remove":
                lists.remove_recipient(customer.account_id, list_id, recipient_id, ctx.now())
                return redirect(f"{LISTS}/{list_id}")
            fields: dict[str, str | None] = {
                name[len("field:"):]: (value.strip() or None)
                for name, value in data.items() if name.startswith("field:")
            }  # fmt: skip
            number = data.get("number", "").strip() or None
            lists.update_recipient(customer.account_id, list_id, recipient_id, number=number,
                                   fields=fields or None, now=ctx.now())  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._recipient_page(request, ctx, customer, list_id, recipient_id,
                                        refused.detail, refused.status)  # fmt: skip
        return redirect(f"{LISTS}/{list_id}")

    @post("/{list_id:uuid}/import", sync_to_thread=True, status_code=200,
          request_max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024)  # fmt: skip
    def upload(
        self, request: Request[Any, Any, Any], ctx: Ctx, list_id: FromPath[UUID], data: Upload
    ) -> Response[Any]:
        customer = self._sender(request, ctx)
        if isinstance(customer, Response):
            return customer
        who = customer.signed_in
        check_session_form({"csrf_token": data.get("csrf_token", "")}, who)
        upload = data.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self._list_page(request, ctx, customer, list_id, "no-file", 422)
        try:
            job = services(ctx).imports.queue(
                customer.account_id, list_id, actor=who.principal.actor,
                filename=upload.filename, content_type=upload.content_type,
                stream=upload.file,  # type: ignore[arg-type]  # a SpooledTemporaryFile[bytes]
            )  # fmt: skip
        except REFUSALS as exc:
            refused = refusal_of(exc)
            return self._list_page(request, ctx, customer, list_id, refused.detail,
                                   refused.status)  # fmt: skip
        finally:
            upload.file.close()
        return redirect(f"{LISTS}/importe/{job.id}")

    @get("/importe/{job_id:uuid}", sync_to_thread=True)
    def job(
        self, request: Request[Any, Any, Any], ctx: Ctx, job_id: FromPath[UUID]
    ) -> Response[Any]:
        customer = require_customer(request, ctx)
        who = customer.signed_in
        imports = services(ctx).imports
        try:
            job = import_read(imports.job(customer.account_id, job_id))
        except REFUSALS as exc:
            refusal_of(exc, only=404)
            return page(request, "not_found", status_code=404, who=who,
                        csrf=who.session.csrf_token)  # fmt: skip
        rejections = []
        if job.state == "done" and job.rejected:
            rejections = list(itertools.islice(imports.rejections(customer.account_id, job_id),
                                               SHOWN_REJECTIONS))  # fmt: skip
        return page(request, "import", who=who, csrf=who.session.csrf_token, job=job,
                    rejections=rejections, running=job.state in ("queued", "running"))  # fmt: skip
