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
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

import psycopg

from adapters.contacts import lists, recipients
from adapters.contacts.parallel import RowPool, prepare
from adapters.contacts.sealing import AccountSeal
from adapters.contacts.staging import (
    STAGE,
    STAGE_COPY,
    copy_rows,
    merge_duplicates,
    merge_existing,
)
from adapters.contacts.textfile import Records, read_text
from domain.contacts.exceptions import NoRowsError, TooManyRowsError
from domain.contacts.fields import SAMPLE_ROWS, ColumnMap, detect_columns
from domain.contacts.numbers import NumberNormaliser

MAX_ROWS = 2_000_000
BATCH = 10_000

REJECT_COPY = (
    "COPY contact_import_rejections (job_id, line, reason, number_hash, sealed)"
    " FROM STDIN (FORMAT BINARY) -- uuid,int8,text,bytea,bytea"
)


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
        copy_rows(self.conn, STAGE_COPY, self.staged)
        self.staged.clear()

    def flush_rejected(self) -> None:
        copy_rows(self.conn, REJECT_COPY, self.rejected)
        self.rejected.clear()


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
    merged = merge_duplicates(conn, seal, duplicates)
    merged += merge_existing(conn, seal, list_id)
    started = progress.lap("merge", started)
    # In index order: a million inserts into the (list, number hash) index take half the time
    # they take in file order. Recipient ids follow it, so a list's order is stable, not the
    # file's (paging, export and the campaign expander go by id).
    staged = conn.execute("SELECT count(*) FROM contact_import_stage").fetchone()
    first = recipients.take_ids(conn, list_id, int(staged[0]) if staged else 0)
    inserted = conn.execute(
        "INSERT INTO contact_recipients (list_id, id, number_hash, sealed)"
        " SELECT %s, %s + row_number() OVER (ORDER BY number_hash) - 1, number_hash, sealed"
        " FROM contact_import_stage ORDER BY number_hash",
        (list_id, first),
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
