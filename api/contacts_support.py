"""What the Contacts controllers share: the services, paging cursors, read shapes."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

from adapters.contacts.jobs import JobRow
from adapters.contacts.lists import ListRow
from adapters.contacts.optouts import OptOutRow
from adapters.contacts.recipients import ListEntry
from adapters.contacts.services import ContactServices
from api.context import ApiContext
from api.errors import ProblemError
from api.schemas.contacts import ImportFailure, ImportRead, ListRead, OptOutRead, RecipientRead
from domain.personal import REDACTED

MAX_LIMIT = 1000
DELIMITER_NAMES = {";": "semicolon", "\t": "tab", ",": "comma", "\x1f": "none (one column)"}


def services(ctx: ApiContext) -> ContactServices:
    found = ctx.backend.contact_services
    if found is None:
        raise RuntimeError("lists need PostgreSQL")
    return found


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ProblemError(422, "invalid-limit", "Invalid limit", f"limit must be 1..{MAX_LIMIT}")
    return limit


def _bad_cursor(cursor: str) -> ProblemError:
    return ProblemError(422, "invalid-cursor", "Invalid cursor", f"bad cursor {cursor!r}")


def encode_cursor(moment: datetime, key: str) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        moment, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(moment), key
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad_cursor(cursor) from exc


def list_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    decoded = decode_cursor(cursor)
    if decoded is None:
        return None
    try:
        return decoded[0], UUID(decoded[1])
    except ValueError as exc:
        raise _bad_cursor(str(cursor)) from exc


def hash_cursor(cursor: str | None) -> tuple[datetime, bytes] | None:
    decoded = decode_cursor(cursor)
    if decoded is None:
        return None
    try:
        return decoded[0], bytes.fromhex(decoded[1])
    except ValueError as exc:
        raise _bad_cursor(str(cursor)) from exc


def id_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise _bad_cursor(cursor)
    return int(cursor)


def list_read(row: ListRow) -> ListRead:
    return ListRead(
        id=row.id,
        name=row.name,
        recipients=row.recipients,
        fields=row.fields,
        importing=row.importing,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def display(e164: str | None) -> str:
    return REDACTED if e164 is None else "00" + e164[1:]


def recipient_read(recipient: ListEntry) -> RecipientRead:
    return RecipientRead(
        id=recipient.id,
        number=display(recipient.e164),
        e164=recipient.e164,
        fields=recipient.fields,
        opted_out=recipient.opted_out,
        redacted=recipient.e164 is None,
    )


def opt_out_read(row: OptOutRow) -> OptOutRead:
    return OptOutRead(
        id=row.id,
        number=display(row.e164),
        e164=row.e164,
        redacted=row.e164 is None,
        source=row.source,
        created_at=row.created_at,
    )


def import_read(job: JobRow) -> ImportRead:
    error = None
    if job.error_code is not None:
        error = ImportFailure(code=job.error_code, detail=job.error_detail or "")
    return ImportRead(
        id=job.id,
        list_id=job.list_id,
        state=job.state,  # type: ignore[arg-type]  # the table's CHECK lists the states
        format=job.format,
        size_bytes=job.size_bytes,
        progress=round(job.progress, 4),
        rows_read=job.rows_read,
        imported=job.imported,
        merged=job.merged,
        rejected=job.rejected,
        encoding=job.encoding,
        delimiter=DELIMITER_NAMES.get(job.delimiter or "", job.delimiter),
        error=error,
        rejections_url=f"/v1/imports/{job.id}/rejections.csv",
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )
