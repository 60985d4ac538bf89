"""Preparing an import's rows, in this process or in a pool of processes.

Preparing a row (``prepare``) is everything that needs no secret: reading its CSV record,
normalising the number, picking the fields (``domain.contacts.rows.parse_rows``) and encoding
the plaintext that will be sealed. It is most of an import's Python work, so big files hand it
to a process pool slice by slice (``Records.slices`` cuts only between records), while the
importing process hashes, seals and streams rows to PostgreSQL. Results come back in file
order; at most ``WINDOW`` slices are in flight, so memory stays bounded whatever the file size.

Key material never leaves the importing process. The pool uses ``spawn`` (the importer has
threads; forking them is unsafe) and lives as long as its ``RowPool``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice

from adapters.contacts.sealing import plaintext
from adapters.contacts.textfile import Records
from domain.contacts.fields import ColumnMap
from domain.contacts.numbers import NumberNormaliser
from domain.contacts.rows import parse_rows

SLICE = 10_000
WINDOW = 4
PARALLEL_FROM_CHARS = 4_000_000
"""Files smaller than this (about 100,000 rows) are prepared in the importing process."""

PreparedRow = tuple[int, str | None, bytes, bool, str | None, str]
"""``(line, e164, plaintext, has_fields, reason, raw)``: as ``domain.contacts.rows.ParsedRow``
with the fields already encoded (``sealing.plaintext``); ``raw`` only for rejected rows."""

_normaliser: NumberNormaliser | None = None


def prepare(
    records: Records, column_map: ColumnMap, normaliser: NumberNormaliser, skip: int = 0
) -> Iterator[PreparedRow]:
    """The prepared rows of ``records`` after the first ``skip`` (header) records."""
    for line, e164, fields, has_fields, reason, raw in parse_rows(
        islice(iter(records), skip, None), column_map, normaliser.normalise
    ):
        if reason is None and e164 is not None:
            yield line, e164, plaintext(e164, fields), has_fields, None, ""
        else:
            yield line, e164, b"", False, reason, raw


def _prepare_slice(
    text: str, delimiter: str, first_line: int, skip: int, column_map: ColumnMap
) -> list[PreparedRow]:
    """In a pool process: one slice's prepared rows."""
    global _normaliser  # noqa: PLW0603 - one normaliser (compiled metadata) per process
    if _normaliser is None:
        _normaliser = NumberNormaliser()
    records = Records(text, delimiter, first_line)
    return list(prepare(records, column_map, _normaliser, skip))


def _warm() -> None:
    """In a pool process: load the phone metadata before the first slice arrives."""
    global _normaliser  # noqa: PLW0603 - see _prepare_slice
    if _normaliser is None:
        _normaliser = NumberNormaliser()
        _normaliser.is_number("+491712345678")


class RowPool:
    """Processes that prepare rows. ``processes`` defaults to the machine's cores (on two
    cores, two helpers beat one: the importing process mostly waits); 0 means none."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = (os.cpu_count() or 1) if processes is None else processes
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def start(self) -> None:
        """Start the processes now (a worker does at start-up, so no import waits for them)."""
        if self.processes:
            pool = self._pool()
            futures = [pool.submit(_warm) for _ in range(self.processes)]
            for future in futures:
                future.result()

    def prepare(
        self,
        records: Records,
        column_map: ColumnMap,
        normaliser: NumberNormaliser,
        skip: int = 0,
    ) -> Iterator[PreparedRow]:
        """``prepare(records, ...)``, by the pool if ``records`` is big enough to gain."""
        if not self.processes or len(records.text) < PARALLEL_FROM_CHARS:
            yield from prepare(records, column_map, normaliser, skip)
            return
        pool = self._pool()
        pending: deque[Future[list[PreparedRow]]] = deque()
        for index, part in enumerate(records.slices(SLICE)):
            pending.append(
                pool.submit(
                    _prepare_slice,
                    part.text,
                    part.delimiter,
                    part.first_line,
                    skip if index == 0 else 0,
                    column_map,
                )
            )
            if len(pending) >= WINDOW:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
