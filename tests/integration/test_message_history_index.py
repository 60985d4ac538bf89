"""The message history index lives in the message's row: each projected notification adds its id
once, and what the earlier index table holds is merged into the rows by the setup."""

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


def _earlier_history_table(conn: psycopg.Connection[Any]) -> None:
    """The history index as an earlier release kept it: a row per message and notification."""
    conn.execute(
        "CREATE TABLE msg_history (message_id uuid NOT NULL, notification_id bigint NOT NULL,"
        " PRIMARY KEY (message_id, notification_id))"
    )


def test_a_database_with_the_earlier_history_table_is_moved_into_the_rows(
    fresh_database_url: str,
) -> None:
    projection = MessagingProjection()
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        projection.setup(conn)
        # What an earlier release left: no history column, a table of (message, notification).
        conn.execute("ALTER TABLE msg_messages DROP COLUMN history")
        _earlier_history_table(conn)
        kept, untouched = _insert_message(conn), _insert_message(conn)
        conn.execute("INSERT INTO msg_history VALUES (%s, 17), (%s, 4)", (kept, kept))

        projection.setup(conn)
        projection.setup(conn)  # a second start changes nothing

        rows: dict[UUID, list[int]] = dict(
            conn.execute("SELECT message_id, history FROM msg_messages").fetchall()
        )
        assert rows == {kept: [4, 17], untouched: []}
        assert conn.execute("SELECT count(*) FROM msg_history").fetchone() == (0,)


def test_an_index_table_made_anew_by_an_earlier_release_is_merged_not_replacing(
    fresh_database_url: str,
) -> None:
    projection = MessagingProjection()
    with psycopg.connect(fresh_database_url, autocommit=True) as conn:
        projection.setup(conn)
        message_id = _insert_message(conn)
        conn.execute(
            "UPDATE msg_messages SET history = '{4,9}' WHERE message_id = %s", (message_id,)
        )
        # An earlier release started again: its setup made the table, its projection wrote it.
        _earlier_history_table(conn)
        conn.execute("INSERT INTO msg_history VALUES (%s, 17), (%s, 4)", (message_id, message_id))

        projection.setup(conn)

        history = conn.execute(
            "SELECT history FROM msg_messages WHERE message_id = %s", (message_id,)
        ).fetchone()
        assert history == ([4, 9, 17],)
        # Emptied, not dropped: the earlier release's projection may still be writing to it.
        assert conn.execute("SELECT count(*) FROM msg_history").fetchone() == (0,)
        conn.execute("INSERT INTO msg_history VALUES (%s, 23)", (message_id,))
        projection.setup(conn)
        assert conn.execute(
            "SELECT history FROM msg_messages WHERE message_id = %s", (message_id,)
        ).fetchone() == ([4, 9, 17, 23],)


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
                    ev.DeliveryReport(
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
