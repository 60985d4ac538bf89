"""``kontor bench import``: a 1,000,000-row recipient CSV into PostgreSQL, as the worker does it.

The file is what a German customer exports from Excel: semicolon-separated Windows-1252 with a
header (Anrede, Vorname, Nachname, Handy, Kundennummer), umlauts in names, numbers in every
usual shape (``0171 2345678``, ``+49 171 ...``, ``0049171...``, ``0171/...``, ``0171-...``,
``(0171) ...``, ``1712345678`` without its zero), about 2 % duplicates and 1 % garbage. It is
uploaded into a job like the API does and imported by ``ImportRunner.run``, the worker's own
code path: parse, normalise, validate, hash, encrypt, stage with COPY, merge, insert, commit.

PostgreSQL: a fresh database on ``KONTOR_DATABASE_URL``'s server if set, else on an embedded
(durable, as ``kontor up`` runs it) server under ``KONTOR_VAR_DIR/bench``.
Prints one JSON object; ``rows_per_s`` is rows of the file per second of the import.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

from adapters.backend import Backend, open_backend
from adapters.contacts import jobs, lists
from adapters.contacts.importer import Progress
from adapters.contacts.parallel import RowPool
from adapters.contacts.runner import ImportRunner
from adapters.contacts.sealing import AccountSeal
from benchmarks.support import bench_settings, german_mobile
from domain.contacts.numbers import NumberNormaliser
from settings import Settings

FIRST_NAMES = (
    "Anna",
    "Jürgen",
    "Sören",
    "Zoë",
    "Björn",
    "Marie",
    "Günther",
    "Lea",
    "Ömer",
    "Hans-Peter",
    "Małgorzata",
    "François",
    "Chantal",
    "",
)
LAST_NAMES = (
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Öztürk",
    "Nowak",
    "Jäger",
    "Bergmann-Schönfeld",
    "Groß",
    "Krüger",
    "Hoffmann",
    "",
)
SALUTATIONS = ("Frau", "Herr", "", "Divers")
GARBAGE = ("n/a", "0171", "unbekannt", "+49 12", "0800 FLOWERS", "12345", "-")


SHAPES = (
    "0{p} {r}",
    "+49 {p} {r}",
    "0049{p}{r}",
    "0{p}/{r}",
    "0{p}-{r3} {rest}",
    "(0{p}) {r}",
    "{p}{r}",
    "+49{p}{r}",
)
"""How Germans write a mobile number (prefix ``p``, subscriber number ``r``)."""


def _formatted(rng: random.Random, prefix: str, rest: str) -> str:
    return rng.choice(SHAPES).format(p=prefix, r=rest, r3=rest[:3], rest=rest[3:])


def generate(rows: int, seed: int) -> bytes:
    """The CSV file's bytes (Windows-1252, CRLF, semicolons)."""
    rng = random.Random(seed)
    lines = ["Anrede;Vorname;Nachname;Handy;Kundennummer"]
    earlier: list[str] = []
    for index in range(rows):
        roll = rng.random()
        if roll < 0.01:
            number = rng.choice(GARBAGE)
        elif roll < 0.03 and earlier:
            number = rng.choice(earlier)
        else:
            number = _formatted(rng, *german_mobile(rng))
            if len(earlier) < 5000:
                earlier.append(number)
        last = rng.choice(LAST_NAMES)
        if "-" in last and rng.random() < 0.5:
            last = f'"{last}; geb. {rng.choice(LAST_NAMES)}"'
        lines.append(
            f"{rng.choice(SALUTATIONS)};{rng.choice(FIRST_NAMES)};{last};{number};K{index:07d}"
        )
    return ("\r\n".join(lines) + "\r\n").encode("cp1252", errors="replace")


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), jobs.CHUNK_BYTES):
        yield data[start : start + jobs.CHUNK_BYTES]


def queue(backend: Backend, data: bytes) -> tuple[jobs.Claim, AccountSeal]:
    """A fresh account's list and an import job holding ``data``, claimed."""
    if backend.pool is None:
        raise RuntimeError("the import benchmark needs PostgreSQL")
    account_id, list_id, job_id = uuid4(), uuid4(), uuid4()
    seal = AccountSeal(backend.keyring, account_id)
    now = datetime.now(UTC)
    backend.contacts.record_list_created(list_id, account_id, "Benchmark", "bench")
    with backend.pool.connection() as conn, conn.transaction():
        lists.insert_list(conn, list_id, account_id, "Benchmark", now)
        jobs.create(
            conn,
            seal,
            job_id=job_id,
            list_id=list_id,
            actor="bench",
            file_format="csv",
            chunks=_chunks(data),
        )
    claim = jobs.claim_next(backend.pool)
    if claim is None or claim.job_id != job_id:
        raise RuntimeError("another import job was waiting in this database")
    return claim, seal


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench import", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--processes", type=int, default=None, help="normalising processes (default: cores)"
    )
    parser.add_argument("--json", action="store_true", help="JSON output (the only format)")
    args = parser.parse_args(argv)

    data = generate(args.rows, args.seed)
    with bench_settings(settings) as configured:
        backend = open_backend(configured, pool_size=4)
        try:
            assert backend.pool is not None
            claim, _ = queue(backend, data)
            row_pool = RowPool(args.processes)
            row_pool.start()  # as a running worker has them
            runner = ImportRunner(
                backend.pool, backend.keyring, backend.contacts, NumberNormaliser(), row_pool
            )
            started, cpu_started = time.perf_counter(), time.process_time()
            progress = Progress()
            counts = runner.run(claim, progress)
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
            if counts is None:
                print(json.dumps({"benchmark": "import", "error": "the import failed"}))
                return 1
            runner.record_outcomes()
            row_pool.close()
        finally:
            backend.close()
    print(
        json.dumps(
            {
                "benchmark": "import",
                "rows": counts.rows,
                "file_mb": round(len(data) / 1e6, 1),
                "seconds": round(seconds, 3),
                "rows_per_s": round(counts.rows / seconds),
                "cpu_seconds": round(cpu_seconds, 3),
                "phases": progress.phases,
                "imported": counts.imported,
                "merged": counts.merged,
                "rejected": counts.rejected,
            }
        )
    )
    return 0
