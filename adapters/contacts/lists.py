"""The ``contact_lists`` table: a list's name, owner and recipient count.

Every function takes an open connection, so callers compose them into one transaction. Every
write that changes a list's recipients first locks the list row (``lock_list``): writers of
one list take turns, which keeps ``recipient_count`` exact and the unique number per list free
of races. A list is *importing* while an import job for it is queued or running.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from domain.contacts.exceptions import ListImportingError, ListNotFoundError

_COLUMNS = sql.SQL("""l.id, l.account_id, l.name, l.recipient_count, l.fields, l.created_at,
    l.updated_at,
    EXISTS (SELECT 1 FROM contact_imports i
            WHERE i.list_id = l.id AND i.state IN ('queued', 'running'))""")


@dataclass(frozen=True, slots=True)
class ListRow:
    id: UUID
    account_id: UUID
    name: str
    recipients: int
    fields: list[str]
    """Every field name the list's recipients have had, in the order they first appeared."""
    created_at: datetime
    updated_at: datetime
    importing: bool

    def ensure_not_importing(self) -> None:
        if self.importing:
            raise ListImportingError(self.id)


def _row(values: tuple[Any, ...]) -> ListRow:
    return ListRow(*values)


def insert_list(
    conn: psycopg.Connection[Any], list_id: UUID, account_id: UUID, name: str, now: datetime
) -> ListRow:
    conn.execute(
        "INSERT INTO contact_lists (id, account_id, name, created_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (list_id, account_id, name, now, now),
    )
    return ListRow(list_id, account_id, name, 0, [], now, now, False)


def get_list(
    conn: psycopg.Connection[Any], account_id: UUID, list_id: UUID, *, lock: bool = False
) -> ListRow:
    """The account's list (locked ``FOR UPDATE`` if asked); ``ListNotFoundError`` otherwise."""
    query = sql.SQL("SELECT {} FROM contact_lists l WHERE l.id = %s AND l.account_id = %s {}")
    lock_clause = sql.SQL("FOR UPDATE OF l" if lock else "")
    row = conn.execute(query.format(_COLUMNS, lock_clause), (list_id, account_id)).fetchone()
    if row is None:
        raise ListNotFoundError(list_id)
    return _row(row)


def lock_list(conn: psycopg.Connection[Any], account_id: UUID, list_id: UUID) -> ListRow:
    """Lock the list for a change of its recipients; refused while it is importing."""
    found = get_list(conn, account_id, list_id, lock=True)
    found.ensure_not_importing()
    return found


def page_lists(
    conn: psycopg.Connection[Any],
    account_id: UUID,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[ListRow]:
    if after is None:
        query = sql.SQL(
            "SELECT {} FROM contact_lists l WHERE l.account_id = %s"
            " ORDER BY l.created_at, l.id LIMIT %s"
        )
        rows = conn.execute(query.format(_COLUMNS), (account_id, limit)).fetchall()
    else:
        query = sql.SQL(
            "SELECT {} FROM contact_lists l WHERE l.account_id = %s"
            " AND (l.created_at, l.id) > (%s, %s) ORDER BY l.created_at, l.id LIMIT %s"
        )
        rows = conn.execute(
            query.format(_COLUMNS), (account_id, after[0], after[1], limit)
        ).fetchall()
    return [_row(row) for row in rows]


def rename_list(
    conn: psycopg.Connection[Any], account_id: UUID, list_id: UUID, name: str, now: datetime
) -> ListRow:
    get_list(conn, account_id, list_id, lock=True)
    conn.execute(
        "UPDATE contact_lists SET name = %s, updated_at = %s WHERE id = %s", (name, now, list_id)
    )
    return get_list(conn, account_id, list_id)


def delete_list(conn: psycopg.Connection[Any], account_id: UUID, list_id: UUID) -> int:
    """Delete the list and its recipients; returns how many recipients it had."""
    found = lock_list(conn, account_id, list_id)
    conn.execute("DELETE FROM contact_recipients WHERE list_id = %s", (list_id,))
    conn.execute("DELETE FROM contact_lists WHERE id = %s", (list_id,))
    return found.recipients


def add_to_count(
    conn: psycopg.Connection[Any], list_id: UUID, delta: int, now: datetime | None
) -> None:
    conn.execute(
        "UPDATE contact_lists SET recipient_count = recipient_count + %s,"
        " updated_at = coalesce(%s, now()) WHERE id = %s",
        (delta, now, list_id),
    )


def touch(conn: psycopg.Connection[Any], list_id: UUID, now: datetime) -> None:
    """Mark the list as changed (a recipient was edited)."""
    conn.execute("UPDATE contact_lists SET updated_at = %s WHERE id = %s", (now, list_id))


def add_field_names(conn: psycopg.Connection[Any], list_id: UUID, names: Iterable[str]) -> None:
    """Remember field names the list's recipients use (for exports and placeholders)."""
    wanted = list(dict.fromkeys(names))
    if wanted:
        conn.execute(
            "UPDATE contact_lists SET fields = fields || ARRAY(SELECT n FROM unnest(%b::text[])"
            " WITH ORDINALITY AS t(n, i) WHERE n <> ALL(fields) ORDER BY i) WHERE id = %s",
            (wanted, list_id),
        )
