"""Imports: ``POST /v1/lists/{list_id}/imports`` (multipart upload, field ``file``) queues a job;
``GET /v1/imports/{job_id}`` shows its progress and counts, ``.../rejections.csv`` the rejected
rows with line number and reason."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, MultipartBody
from litestar.response import Stream
from litestar.status_codes import HTTP_202_ACCEPTED

from adapters.contacts.export import BOM
from adapters.contacts.import_service import MAX_UPLOAD_BYTES
from adapters.csvsafe import spreadsheet_safe
from api.auth import sender_writes
from api.contacts_support import import_read, services
from api.context import AuthRequest, Ctx
from api.schemas.contacts import ImportRead

CSV = "text/csv"
"""Litestar adds ``; charset=utf-8`` to a text type (given here too, it was sent twice)."""


@dataclass
class ImportUpload:
    """The multipart form of an upload: the file in the field ``file``."""

    file: UploadFile


class ListImportController(Controller):
    path = "/v1/lists/{list_id:uuid}/imports"
    tags = ["imports"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @post(
        "/",
        status_code=HTTP_202_ACCEPTED,
        sync_to_thread=True,
        request_max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024,
        summary="Upload a .csv or .txt file (up to 100 MB) to import into the list",
    )
    def upload(
        self,
        request: AuthRequest,
        ctx: Ctx,
        list_id: FromPath[UUID],
        data: MultipartBody[ImportUpload],
    ) -> ImportRead:
        upload = data.file
        try:
            job = services(ctx).imports.queue(
                request.user.customer_account,
                list_id,
                actor=request.user.actor,
                filename=upload.filename,
                content_type=upload.content_type,
                stream=upload.file,  # type: ignore[arg-type]  # a SpooledTemporaryFile[bytes]
            )
        finally:
            upload.file.close()
        return import_read(job)


class ImportController(Controller):
    path = "/v1/imports"
    tags = ["imports"]  # noqa: RUF012
    guards = [sender_writes]  # noqa: RUF012

    @get("/{job_id:uuid}", sync_to_thread=True, summary="An import: state, progress, counts")
    def read(self, request: AuthRequest, ctx: Ctx, job_id: FromPath[UUID]) -> ImportRead:
        return import_read(services(ctx).imports.job(request.user.customer_account, job_id))

    @get(
        "/{job_id:uuid}/rejections.csv",
        sync_to_thread=True,
        media_type=CSV,
        summary="The rejected rows: line, reason and the number as written",
    )
    def rejections(self, request: AuthRequest, ctx: Ctx, job_id: FromPath[UUID]) -> Stream:
        imports = services(ctx).imports
        account_id = request.user.customer_account
        imports.job(account_id, job_id)  # 404 before streaming starts
        rows = imports.rejections(account_id, job_id)

        def body() -> Iterator[bytes]:
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
            writer.writerow(["Zeile", "Grund", "Rufnummer"])
            yield (BOM + out.getvalue()).encode()
            out.seek(0)
            out.truncate()
            for count, (line, reason, value) in enumerate(rows, 1):
                writer.writerow([line, reason, spreadsheet_safe(value)])
                if not count % 2000:
                    yield out.getvalue().encode()
                    out.seek(0)
                    out.truncate()
            yield out.getvalue().encode()

        return Stream(
            body(),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="abgelehnt-{job_id}.csv"'},
        )
