"""The simulator as an independent SMSC whose message ids start again after a restart."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.smpp.client import SmppClient
from adapters.smpp.outcomes import SubmitRequest
from adapters.smsc.record import SCHEMA, connect
from tests.support.smsc import Inbox, simulator


def request(i: int) -> SubmitRequest:
    return SubmitRequest(source="Kontor", destination=f"+49170{i:07d}", payload=b"m%d" % i)


async def submitted_ids(tmp_path: Path, *numbers: int) -> list[str]:
    with simulator(tmp_path, "--ids-restart", "--dlr-delay", "30,30") as sim:
        async with SmppClient(sim.client_config(), Inbox()) as client:
            outcomes = [await client.submit(request(i)) for i in numbers]
    ids = [getattr(o, "message_id", None) for o in outcomes]
    assert all(isinstance(i, str) for i in ids), outcomes
    return [str(i) for i in ids]


async def test_ids_start_again_after_a_restart_and_the_record_keeps_both_submits(
    tmp_path: Path,
) -> None:
    first = await submitted_ids(tmp_path, 1, 2)
    again = await submitted_ids(tmp_path, 3)
    assert again == first[:1]  # the same id, another message
    with simulator(tmp_path) as sim, sim.record() as record:
        rows = record.submits()
        assert [r.message_id for r in rows] == [*first, *again]
        latest = record.submit(first[0])
        assert latest is not None
        assert latest.destination_addr.endswith("3")


def test_a_record_written_with_unique_ids_is_rebuilt_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        SCHEMA.replace("message_id TEXT NOT NULL,", "message_id TEXT NOT NULL UNIQUE,")
    )
    old.execute(
        "INSERT INTO submits VALUES (1, '100', 'k', 'Kontor', 5, 0, '4917', 0, 0, 1, '6d', NULL,"
        " NULL, NULL, 1.0, '', '')"
    )
    old.commit()
    old.close()
    db = connect(path)
    db.execute(
        "INSERT INTO submits VALUES (2, '100', 'k', 'Kontor', 5, 0, '4918', 0, 0, 1, '6d', NULL,"
        " NULL, NULL, 2.0, '', '')"
    )  # the same id again: allowed now
    assert db.execute("SELECT seq, message_id FROM submits").fetchall() == [(1, "100"), (2, "100")]
    (deliveries,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'deliveries'").fetchone()
    assert "REFERENCES submits (seq)" in deliveries
