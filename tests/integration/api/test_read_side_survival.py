"""One event a projection cannot apply stops that projection only, visibly, and never for ever.

The poisoned events are written below the API (through the applications' mappers and
recorders), as an earlier release, a bug or a migration could have left them: the API's own
validation is not what is tested here, the read side's survival is.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any
from uuid import UUID

import psycopg
import pytest

from kontor import cli
from projections.failures import Backoff, Failure, failures
from projections.ledger_balances import BalancesProjection
from projections.ledger_journal import JournalProjection
from projections.runner import ProjectionHeldError, ProjectionRunner
from tests.support.api import ApiHarness


def _rows(api: ApiHarness, query: str, *args: Any) -> list[tuple[Any, ...]]:
    assert api.settings.database_url is not None
    with psycopg.connect(api.settings.database_url) as conn:
        return conn.execute(query, args).fetchall()


def _failures(api: ApiHarness) -> list[Failure]:
    assert api.settings.database_url is not None
    with psycopg.connect(api.settings.database_url) as conn:
        return failures(conn)


class Picky:
    """A projection that refuses the notifications it is told to, beside well-behaved ones."""

    name = "picky"

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS picky_seen (notification_id bigint PRIMARY KEY)")

    def process(self, conn: psycopg.Connection[Any], events: Any) -> None:
        for notification_id, _ in events:
            if notification_id in self.refuse:
                raise ValueError(f"cannot apply {notification_id}")
            conn.execute("INSERT INTO picky_seen VALUES (%s)", (notification_id,))


def _ledger_ids(api: ApiHarness) -> list[int]:
    return [r[0] for r in _rows(api, "SELECT notification_id FROM ledger_events ORDER BY 1")]


def _picky_seen(api: ApiHarness) -> list[int]:
    return [r[0] for r in _rows(api, "SELECT notification_id FROM picky_seen ORDER BY 1")]


def test_a_held_projection_holds_neither_its_siblings_nor_anything_before_its_event(
    api: ApiHarness,
) -> None:
    customers = [api.register() for _ in range(3)]
    ids = _ledger_ids(api)
    refused = ids[len(ids) // 2]
    picky = Picky({refused})
    assert api.backend.pool is not None
    runner = ProjectionRunner(
        api.backend.ledger,
        [JournalProjection(), picky, BalancesProjection()],
        api.backend.pool,
        backoff=Backoff(first=0.5, cap=1.0),
    )
    with pytest.raises(ProjectionHeldError) as held:
        runner.catch_up()
    assert [(f.projection, f.notification_id) for f in held.value.failures] == [("picky", refused)]
    assert _picky_seen(api) == [i for i in ids if i < refused]
    positions = dict(_rows(api, "SELECT projection, notification_id FROM projection_tracking"))
    assert positions["picky"] == refused - 1
    assert positions["ledger_journal"] == positions["ledger_balances"] == ids[-1]

    # Its siblings keep moving while it is held.
    assert api.topup(customers[0], 5_000, "sibling-topup").status_code == 201
    runner.run_once()
    balances = dict(_rows(api, "SELECT customer, available FROM ledger_balances"))
    assert balances[UUID(customers[0].account_id)] == api.settings.trial_credit + 5_000

    # Fixed, it applies the event at its next attempt (back-off: 0.5 s) and everything after.
    picky.refuse.clear()
    time.sleep(1.1)
    runner.catch_up()
    assert _failures(api) == []
    assert _picky_seen(api) == _ledger_ids(api)


def test_an_operator_sees_the_held_event_and_has_it_retried_once_fixed(
    api: ApiHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register()
    ids = _ledger_ids(api)
    picky = Picky({ids[-1]})
    assert api.backend.pool is not None
    assert api.settings.database_url is not None
    runner = ProjectionRunner(api.backend.ledger, [picky], api.backend.pool)
    runner.run_once()
    monkeypatch.setenv("KONTOR_DATABASE_URL", api.settings.database_url)

    assert cli.main(["projections"]) == 1
    shown = capsys.readouterr().out
    assert "picky" in shown
    assert "failing" in shown
    assert f"held at notification {ids[-1]} (domain.ledger." in shown
    assert "error: ValueError: cannot apply" in shown
    assert cli.main(["projections", "--json"]) == 1
    [as_json] = [p for p in json.loads(capsys.readouterr().out) if p["projection"] == "picky"]
    assert as_json["failing"]["notification_id"] == ids[-1]

    # Fixed and running: a retry now (instead of after the back-off) applies it.
    picky.refuse.clear()
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(stop, 0.05))
    worker.start()
    try:
        assert cli.main(["projections", "retry", "picky", "--wait", "10"]) == 0
    finally:
        stop.set()
        worker.join()
    out = capsys.readouterr().out
    assert f"asked picky (Ledger) to retry notification {ids[-1]}" in out
    assert "picky (Ledger) applied it and resumed" in out
    assert cli.main(["projections"]) == 0
    assert "failing" not in capsys.readouterr().out
