"""The ``contact_recipients`` table: one row per number and list, sealed, found by keyed hash.

Functions take an open connection (callers lock the list first, see ``lists.lock_list``). Rows
are ordered by ``id``, a number per list (1, 2, ... from the list's ``next_recipient_id``,
never reused in it, so an id tells nothing about other lists or accounts): paging and iteration
have a stable order in which added rows keep their order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql

from adapters.contacts.sealing import AccountSeal
from domain.contacts.exceptions import (
    DuplicateRecipientError,
    ListNotFoundError,
    RecipientNotFoundError,
)
from domain.contacts.fields import merge_fields


@dataclass(frozen=True, slots=True)
class ListEntry:
    """A list entry as decrypted; ``e164`` is ``None`` when the account's key was shredded."""

    id: int
    number_hash: bytes
    e164: str | None
    fields: dict[str, str] = field(default_factory=dict)
    opted_out: bool = False


@dataclass(frozen=True, slots=True)
class AddResult:
    ids: list[int]
    """The recipient id of each input item, in input order."""
    added: int
    merged: int


_SELECT = sql.SQL("""SELECT r.id, r.number_hash, r.sealed, o.number_hash IS NOT NULL
    FROM contact_recipients r
    LEFT JOIN contact_opt_outs o ON o.account_id = %s AND o.number_hash = r.number_hash""")


def _opened(seal: AccountSeal, row: tuple[Any, ...]) -> ListEntry:
    opened = seal.open(row[2])
    return ListEntry(row[0], bytes(row[1]), opened.e164, opened.fields, bool(row[3]))


def page(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    list_id: UUID,
    *,
    after: int = 0,
    limit: int = 100,
    number_hash: bytes | None = None,
) -> list[ListEntry]:
    where = sql.SQL("r.list_id = %s AND r.id > %s")
    params: list[Any] = [seal.account_id, list_id, after]
    if number_hash is not None:
        where = sql.SQL("r.list_id = %s AND r.id > %s AND r.number_hash = %s")
        params.append(number_hash)
    query = sql.SQL("{} WHERE {} ORDER BY r.id LIMIT %s").format(_SELECT, where)
    rows = conn.execute(query, (*params, limit))
    return [_opened(seal, row) for row in rows.fetchall()]


def get(
    conn: psycopg.Connection[Any], seal: AccountSeal, list_id: UUID, recipient_id: int
) -> ListEntry:
    query = sql.SQL("{} WHERE r.list_id = %s AND r.id = %s").format(_SELECT)
    row = conn.execute(query, (seal.account_id, list_id, recipient_id)).fetchone()
    if row is None:
        raise RecipientNotFoundError(recipient_id)
    return _opened(seal, row)


def take_ids(conn: psycopg.Connection[Any], list_id: UUID, count: int) -> int:
    """The first of ``count`` new recipient ids of the list (its next ids, per list; the
    caller holds the list's lock)."""
    row = conn.execute(
        "UPDATE contact_lists SET next_recipient_id = next_recipient_id + %s WHERE id = %s"
        " RETURNING next_recipient_id - %s",
        (count, list_id, count),
    ).fetchone()
    if row is None:
        raise ListNotFoundError(list_id)
    first: int = row[0]
    return first


def add_many(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    list_id: UUID,
    items: Sequence[tuple[str, dict[str, str]]],
) -> AddResult:
    """Add ``(e164, fields)`` items; a number already in the list (or twice in ``items``) is
    merged (``merge_fields``: later non-blank values win). The caller locks the list and
    adds ``added`` to its count."""
    order: dict[bytes, int] = {}
    wanted: list[tuple[bytes, str, dict[str, str]]] = []
    for e164, fields in items:
        number_hash = seal.number_hash(e164)
        at = order.get(number_hash)
        if at is None:
            order[number_hash] = len(wanted)
            wanted.append((number_hash, e164, dict(fields)))
        else:
            earlier = wanted[at]
            wanted[at] = (number_hash, e164, merge_fields(earlier[2], fields))
    ids: dict[bytes, int] = {}
    existing = conn.execute(
        "SELECT id, number_hash, sealed FROM contact_recipients"
        " WHERE list_id = %s AND number_hash = ANY(%b)",
        (list_id, [w[0] for w in wanted]),
    ).fetchall()
    for recipient_id, stored_hash, sealed in existing:
        number_hash = bytes(stored_hash)
        ids[number_hash] = recipient_id
        _, e164, fields = wanted[order[number_hash]]
        if any(fields.values()):
            current = seal.open(sealed)
            merged = merge_fields(current.fields, fields)
            if merged != current.fields or current.redacted:
                conn.execute(
                    "UPDATE contact_recipients SET sealed = %s WHERE list_id = %s AND id = %s",
                    (seal.seal(e164, merged), list_id, recipient_id),
                )
    new = [w for w in wanted if w[0] not in ids]
    if new:
        first = take_ids(conn, list_id, len(new))
        inserted = conn.execute(
            "INSERT INTO contact_recipients (list_id, id, number_hash, sealed)"
            " SELECT %s, %s + t.i - 1, h, s"
            " FROM unnest(%b::bytea[], %b::bytea[]) WITH ORDINALITY AS t(h, s, i)"
            " ORDER BY i RETURNING id, number_hash",
            (list_id, first, [w[0] for w in new], [seal.seal(w[1], w[2]) for w in new]),
        ).fetchall()
        ids.update((bytes(h), i) for i, h in inserted)
    return AddResult(
        ids=[ids[seal.number_hash(e164)] for e164, _ in items],
        added=len(new),
        merged=len(items) - len(new),
    )


def update(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    list_id: UUID,
    recipient_id: int,
    *,
    e164: str | None,
    fields: dict[str, str] | None,
) -> ListEntry:
    """Change a recipient's number and/or replace its fields (``None``: unchanged)."""
    current = get(conn, seal, list_id, recipient_id)
    number = e164 or current.e164
    if number is None:  # shredded: a new number must come with it
        raise RecipientNotFoundError(recipient_id)
    number_hash = seal.number_hash(number)
    if number_hash != current.number_hash:
        clash = conn.execute(
            "SELECT id FROM contact_recipients WHERE list_id = %s AND number_hash = %s",
            (list_id, number_hash),
        ).fetchone()
        if clash is not None:
            raise DuplicateRecipientError(clash[0])
    new_fields = current.fields if fields is None else fields
    conn.execute(
        "UPDATE contact_recipients SET number_hash = %s, sealed = %s"
        " WHERE list_id = %s AND id = %s",
        (number_hash, seal.seal(number, new_fields), list_id, recipient_id),
    )
    return get(conn, seal, list_id, recipient_id)


def remove(conn: psycopg.Connection[Any], list_id: UUID, recipient_id: int) -> None:
    deleted = conn.execute(
        "DELETE FROM contact_recipients WHERE list_id = %s AND id = %s", (list_id, recipient_id)
    )
    if deleted.rowcount == 0:
        raise RecipientNotFoundError(recipient_id)
