"""How ``/ready`` and ``/metrics`` judge the read side and the workers from their rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from adapters.postgres.heartbeats import STALE_AFTER, WorkerProcess
from api.metrics import read_side_metrics
from api.read_side import ReadSide
from projections.failures import Failure
from projections.read_side import FollowerStatus

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def worker(
    name: str, *, expected: bool = True, silent: float | None = 1.0, **fields: object
) -> WorkerProcess:
    values: dict[str, object] = {
        "host": "h",
        "name": name,
        "worker": name,
        "pid": 42,
        "expected": expected,
        "started_at": NOW - timedelta(minutes=5),
        "ready_at": NOW - timedelta(minutes=4),
        "beat_at": None if silent is None else NOW - timedelta(seconds=silent),
        "stopped_at": None,
        "now": NOW,
    }
    values.update(fields)
    return WorkerProcess(**values)  # type: ignore[arg-type]


def failure(notification_id: int) -> Failure:
    return Failure(
        "messaging", "Messaging", notification_id, "domain.messaging.send:Send.Accepted",
        UUID(int=7), 1, "DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes",
        NOW - timedelta(minutes=3), NOW, 5, NOW + timedelta(seconds=16),
    )  # fmt: skip


def test_a_worker_is_ready_starting_stale_stopped_or_not_reported() -> None:
    assert worker("relay").state == "ready"
    assert worker("relay", ready_at=None).state == "starting"
    assert worker("relay", silent=STALE_AFTER + 1).state == "stale"
    assert worker("relay", silent=None, stopped_at=NOW).state == "stopped"
    assert worker("relay", silent=None, pid=None, started_at=None, ready_at=None).state == (
        "not reported"
    )


def test_a_held_projection_and_an_unready_expected_worker_degrade_the_platform() -> None:
    state = ReadSide(
        [
            FollowerStatus("ledger_balances", "Ledger", 90, 100),
            FollowerStatus("messaging", "Messaging", 811, 900, failure(812)),
        ],
        [
            worker("relay"),
            worker("carrier-2", silent=60.0),
            worker("expander", silent=None, ready_at=None, pid=None),
            worker("by-hand", expected=False, silent=None, stopped_at=NOW),
        ],
    )
    assert state.problems == [
        "projection messaging of Messaging cannot apply notification 812"
        " (domain.messaging.send:Send.Accepted of 00000000-0000-0000-0000-000000000007 v1):"
        " DataError: PostgreSQL text fields cannot contain NUL (0x00) bytes"
        " (5 attempts since 2026-03-02T08:57:00+00:00)",
        "worker carrier-2 on h is stale (silent for 60 s)",
        "worker expander on h is not reported",
    ]
    assert state.behind == ["ledger_balances@Ledger", "messaging@Messaging"]


def test_projections_that_are_only_behind_do_not_degrade_it() -> None:
    state = ReadSide([FollowerStatus("messaging", "Messaging", 10, 500)], [worker("relay")])
    assert state.problems == []
    assert state.behind == ["messaging@Messaging"]


def test_the_metrics_show_the_failing_event_and_the_workers() -> None:
    state = ReadSide(
        [
            FollowerStatus("messaging", "Messaging", 811, 900, failure(812)),
            FollowerStatus("ledger_journal", "Ledger", 100, 100),
        ],
        [worker("relay"), worker("carrier-2", silent=60.0)],
    )
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in read_side_metrics(state)
        for s in family.samples
    }
    messaging = (("application", "Messaging"), ("projection", "messaging"))
    journal = (("application", "Ledger"), ("projection", "ledger_journal"))
    assert samples[("kontor_read_side_up", ())] == 1.0
    assert samples[("kontor_projection_failing", messaging)] == 1.0
    assert samples[("kontor_projection_failing", journal)] == 0.0
    assert samples[("kontor_projection_failing_notification_id", messaging)] == 812
    assert samples[("kontor_projection_failure_attempts", messaging)] == 5
    assert samples[("kontor_projection_behind_events", messaging)] == 89
    relay = (("host", "h"), ("process", "relay"), ("worker", "relay"))
    carrier = (("host", "h"), ("process", "carrier-2"), ("worker", "carrier-2"))
    assert samples[("kontor_worker_ready", relay)] == 1.0
    assert samples[("kontor_worker_ready", carrier)] == 0.0
    assert samples[("kontor_worker_silent_seconds", carrier)] == 60.0


def test_an_unreadable_read_side_says_so() -> None:
    state = ReadSide(unreadable="OperationalError: gone")
    assert state.problems == ["read side not readable: OperationalError: gone"]
    samples = [s for f in read_side_metrics(state) for s in f.samples]
    assert [(s.name, s.value) for s in samples] == [("kontor_read_side_up", 0.0)]
