"""Reading the simulator's record from tests and benchmarks (while it runs, or after).

Opens the SQLite file read-only, so it never blocks the simulator's writer (WAL lets readers
and one writer work side by side). Every query sees what was committed at the time of the call.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from adapters.smsc.record import SubmitRow


@dataclass(frozen=True, slots=True)
class Duplicate:
    destination_addr: str
    payload_hex: str
    count: int


class SmscRecord:
    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self) -> SmscRecord:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    def _one(self, sql: str, *params: object) -> int:
        return int(self._db.execute(sql, params).fetchone()[0])

    def count_submits(self, system_id: str | None = None) -> int:
        if system_id is None:
            return self._one("SELECT count(*) FROM submits")
        return self._one("SELECT count(*) FROM submits WHERE system_id = ?", system_id)

    def submits(self, destination: str | None = None) -> list[SubmitRow]:
        sql, params = "SELECT * FROM submits", tuple[str, ...]()
        if destination is not None:
            sql, params = sql + " WHERE destination_addr = ?", (destination.removeprefix("+"),)
        return [SubmitRow(*row) for row in self._db.execute(sql + " ORDER BY seq", params)]

    def submit(self, message_id: str) -> SubmitRow | None:
        row = self._db.execute(  # the latest, where ids start again after a restart
            "SELECT * FROM submits WHERE message_id = ? ORDER BY seq DESC LIMIT 1", (message_id,)
        )
        found = row.fetchone()
        return SubmitRow(*found) if found else None

    def replied(self) -> list[str]:
        """The handsets (``destination_addr`` of the submit each answered) whose replies (MO)
        the platform acknowledged (a part of it, for a reply in parts), one per reply."""
        rows = self._db.execute(
            "SELECT s.destination_addr FROM deliveries d JOIN submits s ON s.seq = d.submit_seq"
            " WHERE d.kind = 'mo' AND d.acked_at IS NOT NULL GROUP BY d.submit_seq"
            " ORDER BY min(d.id)"
        )
        return [str(row[0]) for row in rows]

    def acknowledged(self, kind: str) -> dict[str, float]:
        """Per handset (``destination_addr`` of the submit), when the platform acknowledged the
        last deliver_sm of ``kind`` (``dlr`` or ``mo``) about it (epoch seconds)."""
        rows = self._db.execute(
            "SELECT s.destination_addr, max(d.acked_at) FROM deliveries d"
            " JOIN submits s ON s.seq = d.submit_seq"
            " WHERE d.kind = ? AND d.acked_at IS NOT NULL GROUP BY s.destination_addr",
            (kind,),
        )
        return {str(destination): float(at) for destination, at in rows}

    def reply_parts(self) -> dict[str, list[str]]:
        """Per handset answering, the parts (``SEQ/TOTAL``) of its reply the platform
        acknowledged (``[]`` for a reply of one deliver_sm)."""
        rows = self._db.execute(
            "SELECT s.destination_addr, d.state FROM deliveries d"
            " JOIN submits s ON s.seq = d.submit_seq"
            " WHERE d.kind = 'mo' AND d.acked_at IS NOT NULL ORDER BY d.id"
        )
        parts: dict[str, list[str]] = {}
        for destination, state in rows:
            parts.setdefault(str(destination), [])
            if state.startswith("mo:"):
                parts[str(destination)].append(state[3:])
        return parts

    def with_effect(self, effect: str) -> list[SubmitRow]:
        rows = self._db.execute(
            "SELECT * FROM submits WHERE ',' || effects || ',' LIKE ? ORDER BY seq",
            (f"%,{effect},%",),
        )
        return [SubmitRow(*row) for row in rows]

    def duplicates(self) -> list[Duplicate]:
        """Submits with the same destination and payload bytes: a double send, unless the
        test sent the same part twice on purpose."""
        rows = self._db.execute(
            "SELECT destination_addr, payload_hex, count(*) FROM submits"
            " GROUP BY destination_addr, payload_hex HAVING count(*) > 1"
        )
        return [Duplicate(*row) for row in rows]

    def deliveries(self, kind: str = "dlr") -> list[tuple[str, str, int, float | None]]:
        """``(message_id, state, attempts, acked_at)`` of each receipt (or MO) owed."""
        rows = self._db.execute(
            "SELECT s.message_id, d.state, d.attempts, d.acked_at FROM deliveries d"
            " JOIN submits s ON s.seq = d.submit_seq WHERE d.kind = ? ORDER BY d.id",
            (kind,),
        )
        return list(rows)

    def unacked_deliveries(self) -> int:
        return self._one("SELECT count(*) FROM deliveries WHERE acked_at IS NULL")

    def stat(self, key: str) -> int:
        """A counter: ``max_in_flight``, ``throttled``, ``rejected``, ``queue_full``, ``binds``,
        ``bind_failures``, ``disconnects``, ``redeliveries``, ``enquire_links``, ``unbinds``;
        0 when never set."""
        row = self._db.execute("SELECT value FROM stats WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0
