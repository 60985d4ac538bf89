"""Importing a decoded file into a list, all inside the caller's one transaction.

1. Records are read (``textfile``), the number column found (``domain.contacts.fields``), each
   number normalised (``domain.contacts.numbers``), hashed and sealed with its fields, and the
   rows streamed with COPY into a temporary staging table in file order. Rejected rows (no
   number, invalid number, oversized field) go to the rejection report with their line number,
   reason and the cell as written (sealed).
2. Numbers twice in the file are merged into their first row (later non-blank values win);
   numbers already in the list are merged into the existing row the same way. Only rows whose
   fields change are decrypted and sealed again.
3. What is left is inserted into the list, and the list's count and field names updated.

Nothing is visible before the caller commits; any error rolls everything back, so a failed
import leaves the list exactly as it was. The caller holds the list as *importing* (its job is
running), which keeps hand edits out; the list row is locked only for steps 2-3.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import reduce
from itertools import islice
from typing import Any
from uuid import UUID

import psycopg

from adapters.contacts import lists
from adapters.contacts.parallel import RowPool, prepare
from adapters.contacts.sealing import AccountSeal
from adapters.contacts.textfile import Records, read_text
from domain.contacts.exceptions import NoRowsError, TooManyRowsError
from domain.contacts.fields import SAMPLE_ROWS, ColumnMap, detect_columns, merge_fields
from domain.contacts.numbers import NumberNormaliser

MAX_ROWS = 2_000_000
BATCH = 10_000

STAGE = """CREATE TEMPORARY TABLE contact_import_stage (
    seq int NOT NULL, number_hash bytea NOT NULL, sealed bytea NOT NULL, has_fields bool NOT NULL
) ON COMMIT DROP"""
STAGE_COPY = (
    "COPY contact_import_stage (seq, number_hash, sealed, has_fields) FROM STDIN (FORMAT BINARY)"
    " -- int4,bytea,bytea,bool"
)
REJECT_COPY = (
    "COPY contact_import_rejections (job_id, line, reason, number_hash, sealed)"
    " FROM STDIN (FORMAT BINARY) -- uuid,int8,text,bytea,bytea"
)
UPDATE_COPY = "COPY contact_import_updates (id, sealed) FROM STDIN (FORMAT BINARY) -- int8,bytea"


@dataclass
class Progress:
    """Updated as the import goes; a heartbeat thread reports it."""

    rows_read: int = 0
    chars_read: int = 0
    chars_total: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (read, stage, merge, insert), for logs and the benchmark."""

    def lap(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.phases[phase] = round(now - started, 3)
        return now


@dataclass(frozen=True, slots=True)
class ImportCounts:
    rows: int
    imported: int
    merged: int
    rejected: int


@dataclass
class _Buffers:
    conn: psycopg.Connection[Any]
    job_id: UUID
    staged: list[tuple[int, bytes, bytes, bool]] = field(default_factory=list)
    rejected: list[tuple[UUID, int, str, bytes | None, bytes | None]] = field(default_factory=list)
    rejections: int = 0

    def reject(self, line: int, reason: str, number_hash: bytes | None, raw: bytes | None) -> None:
        self.rejected.append((self.job_id, line, reason, number_hash, raw))
        self.rejections += 1
        if len(self.rejected) >= BATCH:
            self.flush_rejected()

    def flush_staged(self) -> None:
        _copy(self.conn, STAGE_COPY, self.staged)
        self.staged.clear()

    def flush_rejected(self) -> None:
        _copy(self.conn, REJECT_COPY, self.rejected)
        self.rejected.clear()


def _copy(conn: psycopg.Connection[Any], statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Binary COPY; ``statement`` names its column types after ``--`` (psycopg needs them)."""
    types = statement.rpartition("-- ")[2].split(",")
    with conn.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def import_file(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    normaliser: NumberNormaliser,
    *,
    list_id: UUID,
    job_id: UUID,
    data: bytes,
    progress: Progress,
    row_pool: RowPool | None = None,
) -> ImportCounts:
    """Import ``data`` into the list inside ``conn``'s open transaction (see module doc).

    ``row_pool`` normalises big files in several processes (``adapters.contacts.parallel``)."""
    started = time.perf_counter()
    records, encoding = read_text(data)
    progress.encoding, progress.delimiter = encoding, records.delimiter
    progress.chars_total = len(records.text)
    started = progress.lap("read", started)
    # Staging stays in memory (temporary tables live in temp_buffers, 8 MB by default, which
    # only takes effect before a session's first temporary table: a fresh session's matters).
    conn.execute("SET LOCAL temp_buffers = '400MB'")
    conn.execute("SET LOCAL work_mem = '256MB'")
    conn.execute(STAGE)
    buffers = _Buffers(conn, job_id)
    rows, duplicates, field_names = _stage_rows(
        records, seal, normaliser, buffers, progress, row_pool
    )
    buffers.flush_staged()
    buffers.flush_rejected()
    conn.execute("ANALYZE contact_import_stage")
    started = progress.lap("stage", started)
    lists.get_list(conn, seal.account_id, list_id, lock=True)
    merged = _merge_duplicates(conn, seal, duplicates)
    merged += _merge_existing(conn, seal, list_id)
    started = progress.lap("merge", started)
    # In index order: a million inserts into the (list, number hash) index take half the time
    # they take in file order. Recipient ids follow it, so a list's order is stable, not the
    # file's (paging, export and the campaign expander go by id).
    inserted = conn.execute(
        "INSERT INTO contact_recipients (list_id, number_hash, sealed)"
        " SELECT %s, number_hash, sealed FROM contact_import_stage ORDER BY number_hash",
        (list_id,),
    ).rowcount
    lists.add_to_count(conn, list_id, inserted, None)
    lists.add_field_names(conn, list_id, field_names)
    progress.lap("insert", started)
    return ImportCounts(rows, inserted, merged, buffers.rejections)


def _column_map(records: Records, normaliser: NumberNormaliser) -> tuple[ColumnMap, int]:
    """The column map from the first records, and how many leading records are a header."""
    sample = [row for _, row in islice(iter(records), SAMPLE_ROWS + 1)]
    if not sample:
        raise NoRowsError
    column_map = detect_columns(sample, normaliser.is_number)
    return column_map, 1 if column_map.has_header else 0


def _stage_rows(
    records: Records,
    seal: AccountSeal,
    normaliser: NumberNormaliser,
    buffers: _Buffers,
    progress: Progress,
    row_pool: RowPool | None,
) -> tuple[int, set[bytes], tuple[str, ...]]:
    """Stage every valid row, report the rest; returns the data row count, the hashes seen
    more than once and the field names."""
    column_map, header_rows = _column_map(records, normaliser)
    if row_pool is None:
        prepared = prepare(records, column_map, normaliser, header_rows)
    else:
        prepared = row_pool.prepare(records, column_map, normaliser, header_rows)
    number_hash, sealer, seal_raw = seal.number_hash, seal.sealer(), seal.seal_bytes
    staged, reject, flush = buffers.staged, buffers.reject, buffers.flush_staged
    seen: set[int] = set()
    duplicates: set[bytes] = set()
    rows = seq = 0
    tick = time.monotonic()
    for line, e164, payload, has_fields, reason, raw in prepared:
        rows += 1
        if rows > MAX_ROWS:
            raise TooManyRowsError(MAX_ROWS)
        if reason is not None:
            hashed = None if e164 is None else number_hash(e164)
            reject(line, reason, hashed, seal_raw(raw.encode()) if raw else None)
            continue
        hashed = number_hash(e164)  # type: ignore[arg-type]  # set on every valid row
        key = hash(hashed)
        if key in seen:
            duplicates.add(hashed)
        else:
            seen.add(key)
        staged.append((seq, hashed, sealer(payload), has_fields))
        seq += 1
        if not seq % BATCH:
            flush()
            if time.monotonic() - tick > 0.5:
                progress.rows_read, progress.chars_read = rows, records.chars_read
                tick = time.monotonic()
    progress.rows_read, progress.chars_read = rows, records.chars_read
    if rows == 0:
        raise NoRowsError
    return rows, duplicates, column_map.field_names()


def _merge_duplicates(
    conn: psycopg.Connection[Any], seal: AccountSeal, duplicates: set[bytes]
) -> int:
    """Fold rows with the same number into their first row; returns the rows folded away."""
    if not duplicates:
        return 0
    rows = conn.execute(
        "SELECT seq, number_hash, sealed FROM contact_import_stage"
        " WHERE number_hash = ANY(%s) ORDER BY number_hash, seq",
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
    conn.execute("DELETE FROM contact_import_stage WHERE number_hash = ANY(%s)", (list(groups),))
    _copy(conn, STAGE_COPY, folded)
    return len(rows) - len(groups)


def _merge_existing(conn: psycopg.Connection[Any], seal: AccountSeal, list_id: UUID) -> int:
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
        conn.execute("CREATE TEMPORARY TABLE contact_import_updates (id bigint, sealed bytea)"
                     " ON COMMIT DROP")  # fmt: skip
        _copy(conn, UPDATE_COPY, updates)
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
