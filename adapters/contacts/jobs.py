"""Import jobs: the ``contact_imports`` row (state, progress, counts), the uploaded file
(``contact_import_chunks``, sealed under the account's key, deleted once the job ends) and the
rejection report (``contact_import_rejections``).

States: ``queued`` -> ``running`` -> ``done`` | ``failed``. Workers claim the oldest queued job
with ``FOR UPDATE SKIP LOCKED``, so several run side by side; each claim gets a fresh token, and
a job whose worker stopped sending heartbeats is claimed again (the dead worker's transaction
was rolled back with it). Only the holder of the current token can finish the job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.contacts.sealing import AccountSeal
from domain.contacts.exceptions import ImportFileError, ImportNotFoundError
from domain.personal import REDACTED

CHUNK_BYTES = 1 << 20
STALE_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 3


class LostClaimError(RuntimeError):
    """Another worker claimed the job meanwhile (this one was presumed dead)."""


@dataclass(frozen=True, slots=True)
class JobRow:
    id: UUID
    account_id: UUID
    list_id: UUID
    actor: str
    state: str
    format: str
    size_bytes: int
    chars_total: int
    chars_read: int
    rows_read: int
    imported: int
    merged: int
    rejected: int
    encoding: str | None
    delimiter: str | None
    error_code: str | None
    error_detail: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def progress(self) -> float:
        if self.state == "done":
            return 1.0
        if not self.chars_total:
            return 0.0
        return min(1.0, self.chars_read / self.chars_total)


_JOB_COLUMNS = sql.SQL("""id, account_id, list_id, actor, state, format, size_bytes, chars_total,
    chars_read, rows_read, imported, merged, rejected, encoding, delimiter, error_code,
    error_detail, created_at, started_at, finished_at""")


@dataclass(frozen=True, slots=True)
class Claim:
    job_id: UUID
    account_id: UUID
    list_id: UUID
    actor: str
    token: UUID
    attempts: int


def create(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    *,
    job_id: UUID,
    list_id: UUID,
    actor: str,
    file_format: str,
    chunks: Iterator[bytes],
) -> int:
    """Queue a job with its file (stored chunk by chunk, sealed); returns the file's size.
    Job times are PostgreSQL's (the worker's are too)."""
    size = 0
    conn.execute(
        "INSERT INTO contact_imports (id, account_id, list_id, actor, state, format,"
        " size_bytes, created_at) VALUES (%s, %s, %s, %s, 'queued', %s, 0, now())",
        (job_id, seal.account_id, list_id, actor, file_format),
    )
    for seq, chunk in enumerate(chunks):
        size += len(chunk)
        conn.execute(
            "INSERT INTO contact_import_chunks (job_id, seq, sealed) VALUES (%s, %s, %s)",
            (job_id, seq, seal.seal_bytes(chunk)),
        )
    conn.execute("UPDATE contact_imports SET size_bytes = %s WHERE id = %s", (size, job_id))
    return size


def get(conn: psycopg.Connection[Any], account_id: UUID, job_id: UUID) -> JobRow:
    query = sql.SQL("SELECT {} FROM contact_imports WHERE id = %s AND account_id = %s")
    row = conn.execute(query.format(_JOB_COLUMNS), (job_id, account_id)).fetchone()
    if row is None:
        raise ImportNotFoundError(job_id)
    return JobRow(*row)


def load_file(conn: psycopg.Connection[Any], seal: AccountSeal, job_id: UUID) -> bytes:
    rows = conn.execute(
        "SELECT sealed FROM contact_import_chunks WHERE job_id = %s ORDER BY seq", (job_id,)
    ).fetchall()
    parts = []
    for (sealed,) in rows:
        opened = seal.open_bytes(sealed)
        if opened is None:
            raise UploadShreddedError
        parts.append(opened)
    return b"".join(parts)


class UploadShreddedError(ImportFileError):
    """An upload is readable only while the account's data key exists."""

    code = "shredded"

    def __init__(self) -> None:
        super().__init__("the account's data key was deleted: the file can no longer be read")


def claim_next(pool: ConnectionPool[Any], stale_after: timedelta = STALE_AFTER) -> Claim | None:
    token = uuid4()
    with pool.connection() as conn:
        row = conn.execute(
            "UPDATE contact_imports SET state = 'running', claim = %s, attempts = attempts + 1,"
            " started_at = coalesce(started_at, now()), heartbeat_at = now()"
            " WHERE id = (SELECT id FROM contact_imports"
            "   WHERE state = 'queued' OR (state = 'running' AND heartbeat_at < now() - %s)"
            "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
            " RETURNING id, account_id, list_id, actor, attempts",
            (token, stale_after),
        ).fetchone()
    if row is None:
        return None
    job_id, account_id, list_id, actor, attempts = row
    return Claim(job_id, account_id, list_id, actor, token, attempts)


def report_progress(
    pool: ConnectionPool[Any],
    claim: Claim,
    *,
    rows_read: int,
    chars_read: int,
    chars_total: int | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> None:
    """Progress and heartbeat, committed at once (visible while the import's own transaction
    is still open)."""
    with pool.connection() as conn:
        conn.execute(
            "UPDATE contact_imports SET rows_read = %s, chars_read = %s, heartbeat_at = now(),"
            " chars_total = coalesce(%s, chars_total), encoding = coalesce(%s, encoding),"
            " delimiter = coalesce(%s, delimiter) WHERE id = %s AND claim = %s",
            (rows_read, chars_read, chars_total, encoding, delimiter, claim.job_id, claim.token),
        )


def finish(
    conn: psycopg.Connection[Any],
    claim: Claim,
    *,
    rows_read: int,
    imported: int,
    merged: int,
    rejected: int,
    chars_total: int,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Mark the job done inside the import's transaction (raises ``LostClaimError``)."""
    updated = conn.execute(
        "UPDATE contact_imports SET state = 'done', rows_read = %s, chars_total = %s,"
        " chars_read = %s, encoding = %s, delimiter = %s, imported = %s, merged = %s,"
        " rejected = %s, finished_at = now()"
        " WHERE id = %s AND claim = %s AND state = 'running'",
        (
            rows_read,
            chars_total,
            chars_total,
            encoding,
            delimiter,
            imported,
            merged,
            rejected,
            claim.job_id,
            claim.token,
        ),
    )
    if updated.rowcount != 1:
        raise LostClaimError(str(claim.job_id))
    conn.execute("DELETE FROM contact_import_chunks WHERE job_id = %s", (claim.job_id,))


def fail(pool: ConnectionPool[Any], claim: Claim, code: str, detail: str) -> bool:
    """Mark the job failed for good and drop its file; ``False`` if the claim was lost."""
    with pool.connection() as conn, conn.transaction():
        updated = conn.execute(
            "UPDATE contact_imports SET state = 'failed', error_code = %s, error_detail = %s,"
            " finished_at = now() WHERE id = %s AND claim = %s AND state = 'running'",
            (code, detail, claim.job_id, claim.token),
        )
        if updated.rowcount != 1:
            return False
        conn.execute("DELETE FROM contact_import_chunks WHERE job_id = %s", (claim.job_id,))
        conn.execute("DELETE FROM contact_import_rejections WHERE job_id = %s", (claim.job_id,))
    return True


def requeue(pool: ConnectionPool[Any], claim: Claim) -> None:
    with pool.connection() as conn:
        conn.execute(
            "UPDATE contact_imports SET state = 'queued', claim = NULL"
            " WHERE id = %s AND claim = %s AND state = 'running'",
            (claim.job_id, claim.token),
        )


def unrecorded(pool: ConnectionPool[Any], limit: int = 100) -> list[JobRow]:
    """Finished jobs whose outcome is not yet in the Contacts audit trail."""
    with pool.connection() as conn:
        query = sql.SQL(
            "SELECT {} FROM contact_imports"
            " WHERE NOT recorded AND state IN ('done', 'failed') ORDER BY finished_at LIMIT %s"
        )
        rows = conn.execute(query.format(_JOB_COLUMNS), (limit,)).fetchall()
    return [JobRow(*row) for row in rows]


def mark_recorded(pool: ConnectionPool[Any], job_id: UUID) -> None:
    with pool.connection() as conn:
        conn.execute("UPDATE contact_imports SET recorded = true WHERE id = %s", (job_id,))


def rejections(
    conn: psycopg.Connection[Any], seal: AccountSeal, job_id: UUID
) -> Iterator[tuple[int, str, str]]:
    """``(line, reason, value as written)`` of each rejected row, by line (value decrypted;
    ``[redacted]`` once the account's key is gone)."""
    with conn.cursor(name=f"rejections_{job_id.hex}") as cursor:
        cursor.execute(
            "SELECT line, reason, sealed FROM contact_import_rejections"
            " WHERE job_id = %s ORDER BY line",
            (job_id,),
        )
        for line, reason, sealed in cursor:
            if sealed is None:
                yield line, reason, ""
                continue
            value = seal.open_bytes(sealed)
            yield line, reason, REDACTED if value is None else value.decode()


def purge_finished(pool: ConnectionPool[Any], older_than: timedelta) -> int:
    """Delete recorded jobs (and their rejection reports) that ended long ago."""
    with pool.connection() as conn, conn.transaction():
        doomed = conn.execute(
            "DELETE FROM contact_imports WHERE recorded AND finished_at < now() - %s RETURNING id",
            (older_than,),
        ).fetchall()
        ids = [row[0] for row in doomed]
        if ids:
            conn.execute("DELETE FROM contact_import_rejections WHERE job_id = ANY(%b)", (ids,))
    return len(ids)
