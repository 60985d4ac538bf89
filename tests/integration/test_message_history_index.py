"""The message history index lives in the message's row: each projected notification adds its id
once. (A database of an earlier release gets there by migrations 2 and 3: see
tests/integration/test_migrations.py.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import psycopg

from adapters.postgres import stored_events as ev
from projections.messaging import MessagingProjection, Notified

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _insert_message(conn: psycopg.Connection[Any]) -> UUID:
    message_id = uuid4()
    conn.execute(
        "INSERT INTO msg_messages (message_id, send_id, account_id, idx, number_hash, region,"
        " encoding, parts, price, state, part_states, recorded_at, updated_at)"
        " VALUES (%s, %s, %s, 0, 'h', 'DE', 'gsm7', 1, 790, 'pending', '{NULL}', %s, %s)",
        (message_id, uuid4(), uuid4(), AT, AT),
    )
    return message_id


def test_a_report_projected_twice_is_in_the_history_once(fresh_database_url: str) -> None:
    projection = MessagingProjection()
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        projection.setup(conn)
        message_id = _insert_message(conn)
        report = Notified(
            uuid4(),
            ev.DeliveryBatchRecorded(
                timestamp=AT,
                originator_topic="domain.messaging.batches:DeliveryBatch",
                route="sim",
                reports=[
                    ev.StoredReport(
                        message_id=message_id,
                        send_id=uuid4(),
                        account_id=uuid4(),
                        part=1,
                        carrier_id="0A1B",
                        state="delivered",
                        status_text="DELIVRD",
                        error_code=None,
                        final=True,
                        done_at=AT,
                        received_at=AT,
                        source="deliver_sm",
                    ),
                ],
            ),
        )
        projection.process(conn, [(41, report), (41, report), (42, report)])
        history, state = conn.execute(
            "SELECT history, state FROM msg_messages WHERE message_id = %s", (message_id,)
        ).fetchone() or (None, None)
        assert (history, state) == ([41, 42], "delivered")
