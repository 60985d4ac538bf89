"""Versioned migrations: an earlier release's layout is brought up to date once, recorded, and
a fresh database takes every step without harm."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
import pytest

from adapters.embedded import drop_database, ensure_database
from adapters.postgres.migrations import MIGRATIONS, Migration, migrate
from adapters.postgres.send_staging import SCHEMA as STAGING_SCHEMA
from projections.messaging import MessagingProjection
from tests.support.servers import unique_name

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def unmigrated_url(pg_server_url: str) -> Iterator[str]:
    name = unique_name("kontor_m_")
    yield ensure_database(pg_server_url, name)
    drop_database(pg_server_url, name)


def _message(conn: psycopg.Connection[object]) -> UUID:
    message_id = uuid4()
    conn.execute(
        "INSERT INTO msg_messages (message_id, send_id, account_id, idx, number_hash, region,"
        " encoding, parts, price, state, part_states, recorded_at, updated_at)"
        " VALUES (%s, %s, %s, 0, 'h', 'DE', 'gsm7', 1, 790, 'pending', '{NULL}', %s, %s)",
        (message_id, uuid4(), uuid4(), AT, AT),
    )
    return message_id


def test_an_earlier_releases_layout_is_migrated_once_and_recorded(unmigrated_url: str) -> None:
    with psycopg.connect(unmigrated_url, autocommit=True) as conn:
        # What an earlier release left: messages without the history column, the history in a
        # table of its own, and an index on the staged recipients' person key.
        MessagingProjection().setup(conn)
        conn.execute("ALTER TABLE msg_messages DROP COLUMN history")
        conn.execute(
            "CREATE TABLE msg_history (message_id uuid NOT NULL, notification_id bigint NOT NULL,"
            " PRIMARY KEY (message_id, notification_id))"
        )
        kept, untouched = _message(conn), _message(conn)
        conn.execute("INSERT INTO msg_history VALUES (%s, 17), (%s, 4)", (kept, kept))
        conn.execute(STAGING_SCHEMA)
        conn.execute("CREATE INDEX send_recipients_person ON send_recipients (key_id)")

    assert migrate(unmigrated_url) == [m.version for m in MIGRATIONS]
    assert migrate(unmigrated_url) == []  # recorded: a second start runs nothing

    with psycopg.connect(unmigrated_url) as conn:
        rows = conn.execute("SELECT message_id, history FROM msg_messages").fetchall()
        history: dict[UUID, list[int]] = dict(rows)
        assert history == {kept: [4, 17], untouched: []}
        assert conn.execute("SELECT to_regclass('msg_history')").fetchone() == (None,)
        assert conn.execute("SELECT to_regclass('send_recipients_person')").fetchone() == (None,)
        recorded = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
        assert recorded == [(m.version, m.name) for m in MIGRATIONS]


def test_the_earlier_history_table_is_merged_into_history_the_rows_have_not_replacing_it(
    unmigrated_url: str,
) -> None:
    with psycopg.connect(unmigrated_url, autocommit=True) as conn:
        MessagingProjection().setup(conn)  # a row that already has history of its own
        message_id = _message(conn)
        conn.execute(
            "UPDATE msg_messages SET history = '{4,9}' WHERE message_id = %s", (message_id,)
        )
        conn.execute(
            "CREATE TABLE msg_history (message_id uuid NOT NULL, notification_id bigint NOT NULL,"
            " PRIMARY KEY (message_id, notification_id))"
        )
        conn.execute("INSERT INTO msg_history VALUES (%s, 17), (%s, 4)", (message_id, message_id))
    migrate(unmigrated_url)
    with psycopg.connect(unmigrated_url) as conn:
        history = conn.execute(
            "SELECT history FROM msg_messages WHERE message_id = %s", (message_id,)
        ).fetchone()
        assert history == ([4, 9, 17],)


def test_a_fresh_database_takes_every_migration_before_its_tables_exist(
    unmigrated_url: str,
) -> None:
    assert migrate(unmigrated_url) == [m.version for m in MIGRATIONS]
    with psycopg.connect(unmigrated_url, autocommit=True) as conn:
        MessagingProjection().setup(conn)  # the tables come later, in their current shape
        message_id = _message(conn)
        assert conn.execute(
            "SELECT history FROM msg_messages WHERE message_id = %s", (message_id,)
        ).fetchone() == ([],)


def test_a_failing_migration_records_nothing_and_stops_the_ones_after_it(
    unmigrated_url: str,
) -> None:
    broken = (
        Migration(1, "works", "CREATE TABLE m_one (x int)"),
        Migration(2, "fails", "ALTER TABLE no_such_table ADD COLUMN y int"),
        Migration(3, "never reached", "CREATE TABLE m_three (x int)"),
    )
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(unmigrated_url, broken)
    with psycopg.connect(unmigrated_url) as conn:
        assert conn.execute("SELECT version FROM schema_migrations").fetchall() == [(1,)]
        assert conn.execute("SELECT to_regclass('m_three')").fetchone() == (None,)


EARLIER_CONTACTS = """
CREATE TABLE contact_lists (id uuid PRIMARY KEY, account_id uuid NOT NULL, name text NOT NULL,
    recipient_count bigint NOT NULL DEFAULT 0, fields text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE SEQUENCE contact_recipient_ids CACHE 1000;
CREATE TABLE contact_recipients (list_id uuid NOT NULL,
    id bigint NOT NULL DEFAULT nextval('contact_recipient_ids'), number_hash bytea NOT NULL,
    sealed bytea NOT NULL, PRIMARY KEY (list_id, id), UNIQUE (list_id, number_hash));
"""


def test_recipient_ids_of_one_global_sequence_become_numbers_per_list(
    unmigrated_url: str,
) -> None:
    first, second = uuid4(), uuid4()
    with psycopg.connect(unmigrated_url, autocommit=True) as conn:
        conn.execute(EARLIER_CONTACTS)
        for list_id in (first, second):
            conn.execute(
                "INSERT INTO contact_lists (id, account_id, name, created_at, updated_at)"
                " VALUES (%s, %s, 'l', %s, %s)",
                (list_id, uuid4(), AT, AT),
            )
        for n, list_id in enumerate([first, second, first, second, first]):  # interleaved
            conn.execute(
                "INSERT INTO contact_recipients (list_id, number_hash, sealed) VALUES (%s, %s, %s)",
                (list_id, f"h{n}".encode(), f"s{n}".encode()),
            )
    migrate(unmigrated_url)
    with psycopg.connect(unmigrated_url) as conn:
        rows = conn.execute(
            "SELECT list_id, id, number_hash FROM contact_recipients ORDER BY list_id, id"
        ).fetchall()
        ids = {(list_id, recipient_id, bytes(h)) for list_id, recipient_id, h in rows}
        assert ids == {(first, 1, b"h0"), (first, 2, b"h2"), (first, 3, b"h4"),
                       (second, 1, b"h1"), (second, 2, b"h3")}  # fmt: skip
        next_ids: dict[UUID, int] = dict(
            conn.execute("SELECT id, next_recipient_id FROM contact_lists").fetchall()
        )
        assert next_ids == {first: 4, second: 3}
        assert conn.execute("SELECT to_regclass('contact_recipient_ids')").fetchone() == (None,)
