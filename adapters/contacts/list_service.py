"""Lists and their recipients as the API uses them: one method per request, each one
transaction, every query scoped to the caller's account (a foreign id is not found).

Audit events (``domain.contacts.application.Contacts``) are recorded beside the table writes:
list creation first (so the history exists before the list does), renames and deletions after
the commit; a crash in between loses at most that one entry, never working data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg_pool import ConnectionPool

from adapters.contacts import lists, recipients
from adapters.contacts.lists import ListRow
from adapters.contacts.recipients import AddResult, ListEntry
from adapters.contacts.sealing import AccountSeal
from adapters.contacts.textfile import SINGLE_COLUMN, Records, sniff_delimiter
from adapters.crypto.keyring import Keyring
from domain.contacts.application import Contacts
from domain.contacts.exceptions import TooManyRecipientsError
from domain.contacts.fields import ColumnMap, clean_fields, field_key
from domain.contacts.numbers import NumberNormaliser
from domain.contacts.recipient_list import clean_list_name
from domain.contacts.rows import parse_rows

MAX_PER_REQUEST = 10_000


@dataclass(frozen=True, slots=True)
class PasteResult:
    added: int
    merged: int
    rejected: list[tuple[int, str]]
    """``(line, reason)`` of each pasted line that is not a valid number."""


@dataclass
class ListService:
    pool: ConnectionPool[Any]
    keyring: Keyring
    contacts: Contacts
    normaliser: NumberNormaliser

    def seal(self, account_id: UUID) -> AccountSeal:
        return AccountSeal(self.keyring, account_id)

    # -- lists -----------------------------------------------------------------------------

    def create_list(self, account_id: UUID, name: str, actor: str, now: datetime) -> ListRow:
        cleaned = clean_list_name(name)
        list_id = uuid4()
        self.contacts.record_list_created(list_id, account_id, cleaned, actor)
        with self.pool.connection() as conn:
            return lists.insert_list(conn, list_id, account_id, cleaned, now)

    def get_list(self, account_id: UUID, list_id: UUID) -> ListRow:
        with self.pool.connection() as conn:
            return lists.get_list(conn, account_id, list_id)

    def lists_page(
        self, account_id: UUID, after: tuple[datetime, UUID] | None, limit: int
    ) -> list[ListRow]:
        with self.pool.connection() as conn:
            return lists.page_lists(conn, account_id, after, limit)

    def rename_list(
        self, account_id: UUID, list_id: UUID, name: str, actor: str, now: datetime
    ) -> ListRow:
        cleaned = clean_list_name(name)
        with self.pool.connection() as conn:
            renamed = lists.rename_list(conn, account_id, list_id, cleaned, now)
        self.contacts.record_list_renamed(list_id, cleaned, actor)
        return renamed

    def delete_list(self, account_id: UUID, list_id: UUID, actor: str) -> None:
        with self.pool.connection() as conn:
            count = lists.delete_list(conn, account_id, list_id)
        self.contacts.record_list_deleted(list_id, actor, count)

    # -- recipients ------------------------------------------------------------------------

    def add(
        self,
        account_id: UUID,
        list_id: UUID,
        items: Sequence[tuple[str, dict[str, str]]],
        now: datetime,
    ) -> AddResult:
        """Add numbers as typed with their fields; any invalid number refuses the whole
        request (``InvalidPhoneNumberError``), as a form would."""
        if len(items) > MAX_PER_REQUEST:
            raise TooManyRecipientsError(len(items), MAX_PER_REQUEST)
        parsed = [
            (self.normaliser.normalise(number).e164, clean_fields(fields))
            for number, fields in items
        ]
        return self._add(account_id, list_id, parsed, now)

    def paste(self, account_id: UUID, list_id: UUID, text: str, now: datetime) -> PasteResult:
        """Add pasted numbers (one a line, or separated by ``;``, ``,`` or tabs); lines that are
        no valid number are reported, the rest added."""
        delimiter = sniff_delimiter(text)
        records = list(Records(text, delimiter))
        if delimiter == SINGLE_COLUMN:
            cells = [(line, row) for line, row in records]
        else:  # numbers separated on a line: one record per number
            cells = [(line, [cell]) for line, row in records for cell in row if cell.strip()]
        if len(cells) > MAX_PER_REQUEST:
            raise TooManyRecipientsError(len(cells), MAX_PER_REQUEST)
        column_map = ColumnMap(number=0, fields=(), has_header=False, width=1)
        valid: list[tuple[str, dict[str, str]]] = []
        rejected: list[tuple[int, str]] = []
        for line, e164, _, _, reason, _ in parse_rows(cells, column_map, self.normaliser.normalise):
            if reason is None and e164 is not None:
                valid.append((e164, {}))
            else:
                rejected.append((line, reason or "invalid"))
        result = self._add(account_id, list_id, valid, now) if valid else None
        return PasteResult(
            added=result.added if result else 0,
            merged=result.merged if result else 0,
            rejected=rejected,
        )

    def _add(
        self,
        account_id: UUID,
        list_id: UUID,
        items: Sequence[tuple[str, dict[str, str]]],
        now: datetime,
    ) -> AddResult:
        seal = self.seal(account_id)
        with self.pool.connection() as conn, conn.transaction():
            lists.lock_list(conn, account_id, list_id)
            result = recipients.add_many(conn, seal, list_id, items)
            lists.add_to_count(conn, list_id, result.added, now)
            lists.add_field_names(conn, list_id, (k for _, fields in items for k in fields))
        return result

    def recipients_page(
        self,
        account_id: UUID,
        list_id: UUID,
        *,
        after: int,
        limit: int,
        number: str | None = None,
    ) -> list[ListEntry]:
        seal = self.seal(account_id)
        number_hash = None
        if number is not None:
            number_hash = seal.number_hash(self.normaliser.normalise(number).e164)
        with self.pool.connection() as conn:
            lists.get_list(conn, account_id, list_id)
            return recipients.page(
                conn, seal, list_id, after=after, limit=limit, number_hash=number_hash
            )

    def recipient(self, account_id: UUID, list_id: UUID, recipient_id: int) -> ListEntry:
        with self.pool.connection() as conn:
            lists.get_list(conn, account_id, list_id)
            return recipients.get(conn, self.seal(account_id), list_id, recipient_id)

    def update_recipient(
        self,
        account_id: UUID,
        list_id: UUID,
        recipient_id: int,
        *,
        number: str | None,
        fields: dict[str, str | None] | None,
        now: datetime,
    ) -> ListEntry:
        """Change the number and/or fields (a field set to ``None`` is removed)."""
        e164 = None if number is None else self.normaliser.normalise(number).e164
        seal = self.seal(account_id)
        with self.pool.connection() as conn, conn.transaction():
            lists.lock_list(conn, account_id, list_id)
            new_fields = None
            if fields is not None:
                current = recipients.get(conn, seal, list_id, recipient_id)
                changed = clean_fields({k: v for k, v in fields.items() if v is not None})
                removed = {field_key(k) for k, v in fields.items() if v is None}
                merged = {**current.fields, **changed}
                new_fields = clean_fields({k: v for k, v in merged.items() if k not in removed})
                lists.add_field_names(conn, list_id, changed)
            updated = recipients.update(
                conn, seal, list_id, recipient_id, e164=e164, fields=new_fields
            )
            lists.touch(conn, list_id, now)
        return updated

    def remove_recipient(
        self, account_id: UUID, list_id: UUID, recipient_id: int, now: datetime
    ) -> None:
        with self.pool.connection() as conn, conn.transaction():
            lists.lock_list(conn, account_id, list_id)
            recipients.remove(conn, list_id, recipient_id)
            lists.add_to_count(conn, list_id, -1, now)
