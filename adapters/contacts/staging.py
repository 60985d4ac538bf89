"""The staging table of an import and the merge of duplicate numbers (step 2 of
``adapters.contacts.importer``).

Rows are streamed into a temporary table with binary COPY. A number twice in the file is folded
into its first row; a number already in the list is merged into the list's row; in both cases
later non-blank values win (``domain.contacts.fields.merge_fields``). Only rows whose fields
change are opened and sealed again, so a re-import of a numbers-only file costs one join.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from typing import Any
from uuid import UUID

import psycopg

from adapters.contacts.sealing import AccountSeal
from domain.contacts.fields import merge_fields

STAGE = """CREATE TEMPORARY TABLE contact_import_stage (
    seq int NOT NULL, number_hash bytea NOT NULL, sealed bytea NOT NULL, has_fields bool NOT NULL
) ON COMMIT DROP"""
STAGE_COPY = (
    "COPY contact_import_stage (seq, number_hash, sealed, has_fields) FROM STDIN (FORMAT BINARY)"
    " -- int4,bytea,bytea,bool"
)
UPDATE_COPY = "COPY contact_import_updates (id, sealed) FROM STDIN (FORMAT BINARY) -- int8,bytea"


def copy_rows(
    conn: psycopg.Connection[Any], statement: str, rows: Iterable[tuple[Any, ...]]
) -> None:
    """Binary COPY; ``statement`` names its column types after ``--`` (psycopg needs them)."""
    types = statement.rpartition("-- ")[2].split(",")
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def merge_duplicates(
    conn: psycopg.Connection[Any], seal: AccountSeal, duplicates: set[bytes]
) -> int:
    """Fold rows with the same number into their first row; returns the rows folded away."""
    if not duplicates:
        return 0
    rows = conn.execute(
        "SELECT seq, number_hash, sealed FROM contact_import_stage"
        " WHERE number_hash = ANY(%b) ORDER BY number_hash, seq",
        (list(duplicates),),
    ).fetchall()
    groups: dict[bytes, list[tuple[int, bytes]]] = {}
    for seq, number_hash, sealed in rows:
        groups.setdefault(bytes(number_hash), []).append((seq, sealed))
    folded: list[tuple[int, bytes, bytes, bool]] = []
    for number_hash, group in groups.items():
        opened = [seal.open(sealed) for _, sealed in group]
        fields = reduce(merge_fields, (o.fields for o in opened[1:]), opened[0].fields)
        e164 = opened[0].e164
        if e164 is None:  # pragma: no cover - sealed moments ago under the same key
            raise RuntimeError("a staged row cannot be opened")
        folded.append((group[0][0], number_hash, seal.seal(e164, fields), any(fields.values())))
    conn.execute("DELETE FROM contact_import_stage WHERE number_hash = ANY(%b)", (list(groups),))
    copy_rows(conn, STAGE_COPY, folded)
    return len(rows) - len(groups)


def merge_existing(conn: psycopg.Connection[Any], seal: AccountSeal, list_id: UUID) -> int:
    """Merge staged rows into the list's rows of the same number; returns how many."""
    rows = conn.execute(
        "SELECT r.id, r.sealed, s.sealed FROM contact_import_stage s"
        " JOIN contact_recipients r ON r.list_id = %s AND r.number_hash = s.number_hash"
        " WHERE s.has_fields",
        (list_id,),
    ).fetchall()
    updates = []
    for recipient_id, current_sealed, staged_sealed in rows:
        current, staged = seal.open(current_sealed), seal.open(staged_sealed)
        merged = merge_fields(current.fields, staged.fields)
        if merged != current.fields or current.redacted:
            e164 = staged.e164 or ""
            updates.append((recipient_id, seal.seal(e164, merged)))
    if updates:
        conn.execute(
            "CREATE TEMPORARY TABLE contact_import_updates (id bigint, sealed bytea) ON COMMIT DROP"
        )
        copy_rows(conn, UPDATE_COPY, updates)
        conn.execute(
            "UPDATE contact_recipients r SET sealed = u.sealed FROM contact_import_updates u"
            " WHERE r.list_id = %s AND r.id = u.id",
            (list_id,),
        )
    return conn.execute(
        "DELETE FROM contact_import_stage s USING contact_recipients r"
        " WHERE r.list_id = %s AND r.number_hash = s.number_hash",
        (list_id,),
    ).rowcount
