"""The application recorder that writes a save in one round trip: events, side effects,
notification order and conflicts behave as eventsourcing's own recorder does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import RecordConflictError

from adapters.postgres.eventstore import SideEffectRecorder, event_store_env
from domain.base import KontorApplication


class Counter(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0

    @event("Bumped")
    def bump(self) -> None:
        self.count += 1


class Counters(KontorApplication):
    """A scratch application on the production event store configuration."""


SIDE_TABLE = "recorder_side_effects"


@pytest.fixture
def counters(fresh_database_url: str) -> Counters:
    app = Counters(env=event_store_env(fresh_database_url))
    assert isinstance(app.recorder, SideEffectRecorder)
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {SIDE_TABLE} (id uuid PRIMARY KEY, note text)")
    return app


def side_rows(database_url: str) -> dict[UUID, str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(f"SELECT id, note FROM {SIDE_TABLE}").fetchall()
    return {row[0]: row[1] for row in rows}


def test_a_save_commits_events_and_side_effects_and_returns_notification_ids(
    counters: Counters, fresh_database_url: str
) -> None:
    first, second = Counter("a"), Counter("b")
    first.bump()
    marker = uuid4()
    recordings = counters.save(
        first,
        second,
        side_effects=[(f"INSERT INTO {SIDE_TABLE} VALUES (%s, %s)", [(marker, "saved")])],
    )

    ids = [r.notification.id for r in recordings]
    assert len(ids) == 3
    assert ids == sorted(ids)
    assert counters.repository.get(first.id).count == 1
    assert side_rows(fresh_database_url) == {marker: "saved"}
    notifications = counters.recorder.select_notifications(start=None, limit=10)
    assert [n.id for n in notifications] == ids


def test_a_conflict_raises_rolls_back_its_side_effects_and_leaves_the_pool_usable(
    counters: Counters, fresh_database_url: str
) -> None:
    counter = Counter("c")
    counters.save(counter)
    stale: Counter = counters.repository.get(counter.id)
    fresh: Counter = counters.repository.get(counter.id)
    fresh.bump()
    counters.save(fresh)

    stale.bump()
    lost = uuid4()
    with pytest.raises(RecordConflictError):
        counters.save(
            stale, side_effects=[(f"INSERT INTO {SIDE_TABLE} VALUES (%s, %s)", [(lost, "x")])]
        )

    assert side_rows(fresh_database_url) == {}
    # The connection went back to the pool clean: the next saves work.
    for _ in range(3):
        again: Counter = counters.repository.get(counter.id)
        again.bump()
        counters.save(again)
    assert counters.repository.get(counter.id).count == 4


def test_concurrent_writers_leave_a_gapless_notification_log(counters: Counters) -> None:
    def write(n: int) -> None:
        counter = Counter(f"w{n}")
        for _ in range(n % 3):
            counter.bump()
        counters.save(counter)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(200)))

    notifications = counters.recorder.select_notifications(start=None, limit=1000)
    ids = [n.id for n in notifications]
    assert len(ids) == sum(1 + n % 3 for n in range(200))
    assert ids == list(range(ids[0], ids[0] + len(ids)))
