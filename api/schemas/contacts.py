"""Request and response shapes of lists, recipients, imports, opt-outs and erasures.

Numbers are accepted in any usual form (``0171 2345678``, ``+49 171 ...``, ``0049...``) and
shown as ``0049...`` (``number``) and E.164 (``e164``). Data whose key was shredded is shown
as ``[redacted]`` with ``redacted: true``. Field names are canonical (see
``domain.contacts.fields``): ``anrede``, ``vorname``, ``nachname`` and custom names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import common
from api.schemas.common import Fields, Number

Name = common.ListName


class ListCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name


class ListUpdate(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET


class ListRead(msgspec.Struct):
    id: UUID
    name: str
    recipients: int
    fields: list[str]
    importing: bool
    created_at: datetime
    updated_at: datetime


class ListsPage(msgspec.Struct):
    items: list[ListRead]
    next_cursor: str | None


class RecipientCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Number
    fields: Fields = msgspec.field(default_factory=dict)


class RecipientsAdd(msgspec.Struct, forbid_unknown_fields=True):
    """Either ``recipients`` (each number must be valid, or nothing is added) or ``pasted``
    text (one number a line, or separated by ``;``, ``,`` or tabs: invalid lines are reported
    and the rest added)."""

    recipients: list[RecipientCreate] = msgspec.field(default_factory=list)
    pasted: Annotated[str, common.text_meta(1_000_000, multiline=True)] | None = None


class PastedRejection(msgspec.Struct):
    line: int
    reason: str


class RecipientsAdded(msgspec.Struct):
    added: int
    merged: int
    ids: list[int]
    """The recipient id of each item of ``recipients`` (empty for pasted text)."""
    rejected: list[PastedRejection]


class RecipientUpdate(msgspec.Struct, forbid_unknown_fields=True):
    number: Number | msgspec.UnsetType = msgspec.UNSET
    fields: (
        Annotated[dict[common.FieldName, common.FieldValue | None], msgspec.Meta(max_length=50)]
        | msgspec.UnsetType
    ) = msgspec.UNSET
    """Fields to set; ``null`` removes a field; fields not named stay as they are."""


class RecipientRead(msgspec.Struct):
    id: int
    number: str
    e164: str | None
    fields: dict[str, str]
    opted_out: bool
    redacted: bool


class RecipientsPage(msgspec.Struct):
    items: list[RecipientRead]
    next_cursor: str | None


class ImportFailure(msgspec.Struct):
    code: str
    detail: str


class ImportRead(msgspec.Struct):
    id: UUID
    list_id: UUID
    state: Literal["queued", "running", "done", "failed"]
    format: str
    size_bytes: int
    progress: float
    """0 to 1, by characters read."""
    rows_read: int
    imported: int
    merged: int
    rejected: int
    encoding: str | None
    delimiter: str | None
    error: ImportFailure | None
    rejections_url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class OptOutCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Number


class OptOutRead(msgspec.Struct):
    id: UUID
    number: str
    e164: str | None
    redacted: bool
    source: str
    created_at: datetime


class OptOutsPage(msgspec.Struct):
    items: list[OptOutRead]
    next_cursor: str | None


class ErasureCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Number


class ErasureRead(msgspec.Struct):
    id: UUID
    lists: int
    """Lists the person was removed from."""
    opted_out: bool
    """They stay on the opt-out list (by keyed hash only)."""
    key_shredded: bool
    """Their per-recipient data key existed and was deleted (message history redacted)."""
