"""Queuing an import: checking and storing the upload, reading the job back.

The upload is refused before it is queued when it is not CSV or TXT (by name, or a binary file
such as an Excel workbook named ``.csv``), empty (nothing but blanks), or larger than
``MAX_UPLOAD_BYTES``. Otherwise it is stored, sealed, in 1 MB chunks beside a queued job, in the
same transaction that checks the list is the caller's and not already importing; the
``imports`` worker takes it from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, BinaryIO
from uuid import UUID, uuid4

from psycopg_pool import ConnectionPool

from adapters.contacts import jobs, lists
from adapters.contacts.jobs import JobRow
from adapters.contacts.sealing import AccountSeal
from adapters.contacts.textfile import is_binary
from adapters.crypto.keyring import Keyring
from domain.contacts.exceptions import (
    EmptyUploadError,
    UnsupportedFileTypeError,
    UploadTooLargeError,
)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
FORMATS = {".csv": "csv", ".txt": "txt"}
CONTENT_TYPES = {"text/csv": "csv", "text/plain": "txt", "application/csv": "csv"}
_BLANK = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
_WORKBOOKS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (zip), .xls (OLE)


def file_format(filename: str | None, content_type: str | None) -> str:
    """``csv`` or ``txt`` by the file's name (or, nameless, its content type)."""
    if filename:
        suffix = PurePath(filename).suffix.lower()
        if suffix in FORMATS:
            return FORMATS[suffix]
        raise UnsupportedFileTypeError(
            f"{suffix or 'a file without extension'} cannot be imported: upload .csv or .txt"
        )
    found = CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())
    if found is None:
        raise UnsupportedFileTypeError("upload a .csv or .txt file")
    return found


def checked_chunks(stream: BinaryIO, limit: int = MAX_UPLOAD_BYTES) -> Iterator[bytes]:
    """The upload in chunks, refusing binary, empty and oversized files on the way."""
    size = 0
    content = False
    first = True
    while chunk := stream.read(jobs.CHUNK_BYTES):
        if first:
            if chunk.startswith(_WORKBOOKS):
                raise UnsupportedFileTypeError(
                    "this is a spreadsheet workbook: save it as CSV (semicolon-separated) first"
                )
            if is_binary(chunk[:8192]):
                raise UnsupportedFileTypeError("this is not a text file: upload CSV or TXT")
            first = False
        size += len(chunk)
        if size > limit:
            raise UploadTooLargeError(limit)
        content = content or bool(chunk.strip(_BLANK))
        yield chunk
    if not content:
        raise EmptyUploadError


@dataclass
class ImportService:
    pool: ConnectionPool[Any]
    keyring: Keyring

    def queue(
        self,
        account_id: UUID,
        list_id: UUID,
        *,
        actor: str,
        filename: str | None,
        content_type: str | None,
        stream: BinaryIO,
    ) -> JobRow:
        file_type = file_format(filename, content_type)
        seal = AccountSeal(self.keyring, account_id)
        job_id = uuid4()
        with self.pool.connection() as conn, conn.transaction():
            lists.lock_list(conn, account_id, list_id)
            jobs.create(
                conn,
                seal,
                job_id=job_id,
                list_id=list_id,
                actor=actor,
                file_format=file_type,
                chunks=checked_chunks(stream),
            )
            return jobs.get(conn, account_id, job_id)

    def job(self, account_id: UUID, job_id: UUID) -> JobRow:
        with self.pool.connection() as conn:
            return jobs.get(conn, account_id, job_id)

    def rejections(self, account_id: UUID, job_id: UUID) -> Iterator[tuple[int, str, str]]:
        """The job's rejected rows (line, reason, value as written), streamed."""
        seal = AccountSeal(self.keyring, account_id)
        with self.pool.connection() as conn:
            jobs.get(conn, account_id, job_id)
            yield from jobs.rejections(conn, seal, job_id)
