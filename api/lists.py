"""``/v1/lists``: recipient lists, their CSV template and export.

Every handler is synchronous (PostgreSQL through the sync pool, eventsourcing) and runs in
Litestar's thread pool; every list is the caller's own (a foreign id is 404).
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from adapters.contacts.export import export_lines, template
from api.auth import sender_writes
from api.contacts_support import (
    check_limit,
    encode_cursor,
    list_cursor,
    list_read,
    services,
)
from api.context import AuthRequest, Ctx
from api.query import Cursor, Limit1000
from api.schemas.contacts import ListCreate, ListRead, ListsPage, ListUpdate

CSV = "text/csv"
"""Litestar adds ``; charset=utf-8`` to a text type (given here too, it was sent twice)."""


class ListController(Controller):
    path = "/v1/lists"
    tags = ["lists"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @post("/", status_code=HTTP_201_CREATED, sync_to_thread=True, summary="Create a list")
    def create(self, request: AuthRequest, ctx: Ctx, data: JSONBody[ListCreate]) -> ListRead:
        row = services(ctx).lists.create_list(
            request.user.customer_account, data.name, request.user.actor, ctx.now()
        )
        return list_read(row)

    @get("/", sync_to_thread=True, summary="The caller's lists, oldest first, paged")
    def index(
        self,
        request: AuthRequest,
        ctx: Ctx,
        cursor: Cursor = None,
        limit: Limit1000 = 100,
    ) -> ListsPage:
        rows = services(ctx).lists.lists_page(
            request.user.customer_account, list_cursor(cursor), check_limit(limit)
        )
        last = rows[-1] if len(rows) == limit else None
        return ListsPage(
            items=[list_read(row) for row in rows],
            next_cursor=encode_cursor(last.created_at, str(last.id)) if last else None,
        )

    @get(
        "/template.csv",
        sync_to_thread=False,
        media_type=CSV,
        summary="A CSV template for imports (Rufnummer, Anrede, Vorname, Nachname, ...)",
    )
    def template_csv(self) -> Response[str]:
        return Response(
            template(),
            media_type=CSV,
            headers={"Content-Disposition": 'attachment; filename="kontor-vorlage.csv"'},
        )

    @get("/{list_id:uuid}", sync_to_thread=True, summary="A list: name, count, fields")
    def read(self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID]) -> ListRead:
        return list_read(services(ctx).lists.get_list(request.user.customer_account, list_id))

    @patch("/{list_id:uuid}", sync_to_thread=True, summary="Rename a list")
    def update(
        self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID], data: JSONBody[ListUpdate]
    ) -> ListRead:
        lists = services(ctx).lists
        account_id = request.user.customer_account
        if data.name is msgspec.UNSET:
            return list_read(lists.get_list(account_id, list_id))
        return list_read(
            lists.rename_list(account_id, list_id, data.name, request.user.actor, ctx.now())
        )

    @delete(
        "/{list_id:uuid}",
        status_code=HTTP_204_NO_CONTENT,
        sync_to_thread=True,
        summary="Delete a list and its recipients",
    )
    def remove(self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID]) -> None:
        services(ctx).lists.delete_list(request.user.customer_account, list_id, request.user.actor)

    @get(
        "/{list_id:uuid}/export.csv",
        sync_to_thread=True,
        media_type=CSV,
        summary="The list as CSV (numbers as 0049..., formula-like cells escaped)",
    )
    def export(self, request: AuthRequest, ctx: Ctx, list_id: FromPath[UUID]) -> Stream:
        found = services(ctx)
        account_id = request.user.customer_account
        row = found.lists.get_list(account_id, list_id)
        found.contacts.record_export(list_id, request.user.actor, row.recipients)
        batches = found.iter_recipients(account_id, list_id, batch_size=2000)

        def body() -> Iterator[bytes]:
            for piece in export_lines(row.fields, batches):
                yield piece.encode()

        return Stream(
            body(),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="liste-{list_id}.csv"'},
        )
