"""The campaign dashboard (``msg_sends``) shows the state the Send aggregate is in after every
event of any history, including histories the commands no longer allow (a chunk recorded after
a cancellation, as sends from before that rule may hold): both apply the domain's one rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import Notification
from hypothesis import given
from hypothesis import strategies as st

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres.eventstore import MsgspecTranscoder, TypedMapper
from domain.messaging.records import Lane
from domain.messaging.send import Send
from domain.personal import PersonalData
from domain.tariff import Tariff
from projections.messaging import MessagingProjection

ACCEPTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROJECTION = MessagingProjection()


@pytest.fixture(scope="module")
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        PROJECTION.setup(connection)
        yield connection


@pytest.fixture(scope="module")
def mapper() -> TypedMapper:
    transcoder = MsgspecTranscoder()
    transcoder.keyring = Keyring(b"\x04" * 32, MemoryKeyStore())
    return TypedMapper(transcoder=transcoder)


def accepted(total: int, review: bool, scheduled: bool) -> Send:
    account = uuid4()
    return Send(
        id=uuid4(), account_id=account, lane=Lane.BULK, sender="Shop", tariff=Tariff.QUALITY,
        template=PersonalData(account, "Hallo"), list_id=None, total=total, parts=total,
        expected_cost=790 * total, skipped=(), schedule_at=ACCEPTED + timedelta(hours=1)
        if scheduled else None, review_required=review, fingerprint="f", idempotency_key=None,
        name="", expires_at=ACCEPTED + timedelta(hours=72),
    )  # fmt: skip


def record(send: Send, change: tuple[str, int]) -> None:
    """An event of a send's history, recorded as a stored send may hold it (no command's
    guard asked)."""
    kind, count = change
    if kind == "released":
        send._review_released("admin:kt_x")
    elif kind == "chunk":
        send._chunk_recorded(send.chunks, count)
    elif kind == "cancelled":
        send._cancelled("customer:kt_y", "no longer needed", send.recorded)
    else:
        send._completed(790 * send.recorded, send.recorded)


def project(
    conn: psycopg.Connection[Any], mapper: TypedMapper, send: Send
) -> list[tuple[str, int] | None]:
    """Project the send's new events one by one, as stored; the dashboard after each."""
    seen = []
    for event in send.collect_events():
        stored = mapper.to_stored_event(event)
        notification = Notification(stored.originator_id, stored.originator_version,
                                    stored.topic, stored.state, 1)  # fmt: skip
        decoded = PROJECTION.decode(notification)
        assert decoded is not None
        PROJECTION.process(conn, [(1, decoded)])
        row = conn.execute(
            "SELECT state, recorded FROM msg_sends WHERE send_id = %s", (send.id,)
        ).fetchone()
        seen.append(None if row is None else (row[0], row[1]))
    return seen


CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["released", "chunk", "cancelled", "completed"]), st.integers(1, 700)
    ),
    max_size=8,
)


@given(total=st.integers(1, 1500), review=st.booleans(), scheduled=st.booleans(), changes=CHANGES)
def test_the_dashboard_shows_the_state_the_send_is_in_after_every_event(
    conn: psycopg.Connection[Any],
    mapper: TypedMapper,
    total: int,
    review: bool,
    scheduled: bool,
    changes: list[tuple[str, int]],
) -> None:
    send = accepted(total, review, scheduled)
    assert project(conn, mapper, send) == [(send.state.value, 0)]
    for change in changes:
        record(send, change)
        assert project(conn, mapper, send) == [(send.state.value, send.recorded)]


def test_a_campaign_released_from_review_goes_through_every_state(
    conn: psycopg.Connection[Any], mapper: TypedMapper
) -> None:
    send = accepted(1000, review=True, scheduled=True)
    send.release_review("admin:kt_x", ACCEPTED)
    send.record_chunk(500)
    send.record_chunk(500)
    send.complete(790_000, 1000)
    assert project(conn, mapper, send) == [
        ("awaiting_review", 0),
        ("scheduled", 0),
        ("sending", 500),
        ("recorded", 1000),
        ("completed", 1000),
    ]
