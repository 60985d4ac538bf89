"""The simulator's durable record: every submit_sm it accepted, and every deliver_sm it owes.

This is the carrier's side of the books, so unlike our own logs it holds numbers and payloads:
tests prove exactly-once delivery against it. SQLite in WAL mode with ``synchronous=NORMAL``:
a commit survives the process being killed (not a power cut, which a simulator need not).

Group commit: rows are buffered and written in one transaction per event-loop turn (the server
calls ``flush`` via ``call_soon``), and the callbacks registered with ``after_commit`` (the
submit_sm_resps) run only after it. So a client never hears "accepted" for a submit that a
SIGKILL could still take out of the record, and thousands of submits per second cost a few
hundred commits. Deliveries (receipts and MO) are rows too, so they survive a restart and are
sent again until the client acknowledges them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS submits (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    system_id TEXT NOT NULL,
    source_addr TEXT NOT NULL,
    source_ton INTEGER NOT NULL,
    source_npi INTEGER NOT NULL,
    destination_addr TEXT NOT NULL,
    data_coding INTEGER NOT NULL,
    esm_class INTEGER NOT NULL,
    registered_delivery INTEGER NOT NULL,
    payload_hex TEXT NOT NULL,
    udh_ref INTEGER,
    udh_part INTEGER,
    udh_total INTEGER,
    received_at REAL NOT NULL,
    effects TEXT NOT NULL,
    validity_period TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS submits_by_destination ON submits (destination_addr);
CREATE INDEX IF NOT EXISTS submits_by_message_id ON submits (message_id, seq);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('dlr', 'mo')),
    submit_seq INTEGER NOT NULL REFERENCES submits (seq),
    state TEXT NOT NULL,
    error_code INTEGER NOT NULL,
    due_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    acked_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_by_submit ON deliveries (submit_seq);
CREATE TABLE IF NOT EXISTS stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


_INSERT_SUBMIT = "INSERT INTO submits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


class SubmitRow(NamedTuple):
    seq: int
    message_id: str
    system_id: str
    source_addr: str
    source_ton: int
    source_npi: int
    destination_addr: str
    data_coding: int
    esm_class: int
    registered_delivery: int
    payload_hex: str
    udh_ref: int | None
    udh_part: int | None
    udh_total: int | None
    received_at: float
    effects: str
    """Comma-separated scenario effects, e.g. ``no_response,undeliverable``."""
    validity_period: str = ""
    """As the submit_sm gave it (SMPP time format; empty: the SMSC's default)."""


class DeliveryRow(NamedTuple):
    id: int
    kind: str
    submit_seq: int
    state: str
    error_code: int
    due_at: float


def connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(submits)")}
    if "validity_period" not in columns:  # a record written before submits kept it
        db.execute("ALTER TABLE submits ADD COLUMN validity_period TEXT NOT NULL DEFAULT ''")
    if any(row[2] and row[3] == "u" for row in db.execute("PRAGMA index_list(submits)")):
        _drop_unique_message_id(db)
    return db


def _drop_unique_message_id(db: sqlite3.Connection) -> None:
    """A record written when message ids were unique for ever: rebuild ``submits`` without
    that constraint (an SMSC whose ids start again after a restart repeats them)."""
    db.executescript(
        "PRAGMA legacy_alter_table = ON; BEGIN; ALTER TABLE submits RENAME TO submits_unique;"  # noqa: S608 - our own DDL
        " DROP INDEX IF EXISTS submits_by_destination; DROP INDEX IF EXISTS submits_by_message_id;"
        + SCHEMA
        + " INSERT INTO submits SELECT * FROM submits_unique; DROP TABLE submits_unique; COMMIT;"
    )


class RecordWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        self._submits: list[SubmitRow] = []
        self._deliveries: list[DeliveryRow] = []
        self._attempts: list[tuple[int, int]] = []
        self._acks: list[tuple[float, int, int]] = []
        self._callbacks: list[Callable[[], None]] = []
        self.stats: dict[str, int] = dict(self._db.execute("SELECT key, value FROM stats"))
        self._stats_written = dict(self.stats)

    def last_ids(self) -> tuple[int, int]:
        """The highest submit seq and delivery id recorded, to continue after a restart."""
        row = self._db.execute(
            "SELECT (SELECT coalesce(max(seq), 0) FROM submits),"
            " (SELECT coalesce(max(id), 0) FROM deliveries)"
        ).fetchone()
        return int(row[0]), int(row[1])

    # Rows are NamedTuples, not dataclasses: dataclasses.astuple deep-copies every field and
    # cost a third of the simulator's CPU at a few thousand submits per second.

    def add_submit(self, row: SubmitRow) -> None:
        self._submits.append(row)

    def add_delivery(self, row: DeliveryRow) -> None:
        self._deliveries.append(row)

    def delivery_attempted(self, delivery_id: int, command_status: int) -> None:
        self._attempts.append((command_status, delivery_id))

    def delivery_acked(self, delivery_id: int, at: float, command_status: int = 0) -> None:
        self._acks.append((at, command_status, delivery_id))

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    @property
    def dirty(self) -> bool:
        return bool(self._submits or self._deliveries or self._attempts or self._acks)

    def flush(self) -> None:
        """Write everything buffered in one transaction, then run the after-commit callbacks."""
        changed = [(k, v) for k, v in self.stats.items() if self._stats_written.get(k) != v]
        if self.dirty or changed:
            db = self._db
            db.execute("BEGIN")
            db.executemany(_INSERT_SUBMIT, self._submits)
            db.executemany(
                "INSERT INTO deliveries (id, kind, submit_seq, state, error_code, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self._deliveries,
            )
            db.executemany(
                "UPDATE deliveries SET attempts = attempts + 1, last_status = ? WHERE id = ?",
                self._attempts,
            )
            db.executemany(
                "UPDATE deliveries SET attempts = attempts + 1, acked_at = ?, last_status = ?"
                " WHERE id = ?",
                self._acks,
            )
            db.executemany("INSERT OR REPLACE INTO stats VALUES (?, ?)", changed)
            db.execute("COMMIT")
            self._stats_written.update(changed)
            self._submits, self._deliveries, self._attempts, self._acks = [], [], [], []
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def pending_deliveries(self) -> list[tuple[DeliveryRow, SubmitRow]]:
        """Deliveries not yet acknowledged, with their submits, oldest first."""
        rows = self._db.execute(
            "SELECT d.id, d.kind, d.submit_seq, d.state, d.error_code, d.due_at, s.*"
            " FROM deliveries d JOIN submits s ON s.seq = d.submit_seq"
            " WHERE d.acked_at IS NULL ORDER BY d.due_at"
        ).fetchall()
        return [(DeliveryRow(*row[:6]), SubmitRow(*row[6:])) for row in rows]

    def find_submit(self, message_id: str) -> tuple[SubmitRow, DeliveryRow | None] | None:
        """A submit by its message id, with its receipt if one was scheduled."""
        self.flush()
        row = self._db.execute(  # an SMSC whose ids start again: the latest submit
            "SELECT * FROM submits WHERE message_id = ? ORDER BY seq DESC LIMIT 1", (message_id,)
        )
        found = row.fetchone()
        if found is None:
            return None
        submit = SubmitRow(*found)
        dlr = self._db.execute(
            "SELECT id, kind, submit_seq, state, error_code, due_at FROM deliveries"
            " WHERE submit_seq = ? AND kind = 'dlr'",
            (submit.seq,),
        ).fetchone()
        return submit, DeliveryRow(*dlr) if dlr is not None else None

    def close(self) -> None:
        self.flush()
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
