"""Versioned schema migrations: the steps that change a layout an earlier release left behind.

Tables are created by the modules that own them (``CREATE ... IF NOT EXISTS``, at every start,
harmless). What changes an existing layout (adds a column, moves data, drops a table) is a
migration instead: numbered, run once per database in order, recorded in ``schema_migrations``
with its time, under the schema lock so that two processes never run one twice. ``kontor up``
runs them before it starts the API and the workers (so no process of the earlier release is
still writing), and so does the test harness for every database it creates.

Each step must also work on a fresh database (where the tables come later, already in their
current shape): hence ``IF EXISTS`` everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg

from adapters.postgres.schema import SCHEMA_LOCK

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "staged recipients lose their person index (an erased person's rows stay sealed)",
        "DROP INDEX IF EXISTS send_recipients_person",
    ),
    Migration(
        2,
        "messages keep their history index in a column",
        "ALTER TABLE IF EXISTS msg_messages ADD COLUMN IF NOT EXISTS history bigint[]"
        " NOT NULL DEFAULT '{}'",
    ),
    Migration(
        3,
        "the history index table is merged into the messages' column and dropped",
        """
DO $$ BEGIN
    IF to_regclass('msg_history') IS NOT NULL THEN
        UPDATE msg_messages m
        SET history = ARRAY(SELECT DISTINCT n FROM unnest(m.history || h.ids) AS n ORDER BY n)
        FROM (SELECT message_id, array_agg(notification_id) AS ids
              FROM msg_history GROUP BY message_id) h
        WHERE m.message_id = h.message_id;
        DROP TABLE msg_history;
    END IF;
END $$
""",
    ),
    Migration(
        4,
        "claims name their sender (leases); carrier ids keep the handset and the time",
        "ALTER TABLE IF EXISTS submit_claims ADD COLUMN IF NOT EXISTS owner uuid;"
        " ALTER TABLE IF EXISTS carrier_ids ADD COLUMN IF NOT EXISTS handset text"
        " NOT NULL DEFAULT '';"
        " ALTER TABLE IF EXISTS carrier_ids ADD COLUMN IF NOT EXISTS submitted_at timestamptz",
    ),
    Migration(
        5,
        "claims keep what settles a lost answer by its receipt (handset, carrier, message)",
        "ALTER TABLE IF EXISTS submit_claims ADD COLUMN IF NOT EXISTS carrier text,"
        " ADD COLUMN IF NOT EXISTS handset text, ADD COLUMN IF NOT EXISTS send_id uuid,"
        " ADD COLUMN IF NOT EXISTS account_id uuid, ADD COLUMN IF NOT EXISTS idx integer,"
        " ADD COLUMN IF NOT EXISTS parts smallint, ADD COLUMN IF NOT EXISTS price integer;"
        " DO $$ BEGIN IF to_regclass('submit_claims') IS NOT NULL THEN"
        " CREATE INDEX IF NOT EXISTS submit_claims_in_doubt ON submit_claims (carrier, handset)"
        " WHERE state IN ('submitting', 'uncertain'); END IF; END $$",
    ),
    Migration(
        6,
        "recipient ids are numbers per list, not one global sequence",
        """
DO $$ BEGIN
    IF to_regclass('contact_recipients') IS NOT NULL THEN
        ALTER TABLE contact_recipients ALTER COLUMN id DROP DEFAULT;
        -- through negative ids: renumbering in place would collide on (list_id, id)
        UPDATE contact_recipients SET id = -id;
        UPDATE contact_recipients r SET id = n.rank
        FROM (SELECT list_id, id,
                     row_number() OVER (PARTITION BY list_id ORDER BY id DESC) AS rank
              FROM contact_recipients) n
        WHERE r.list_id = n.list_id AND r.id = n.id;
        ALTER TABLE contact_lists
            ADD COLUMN IF NOT EXISTS next_recipient_id bigint NOT NULL DEFAULT 1;
        UPDATE contact_lists l SET next_recipient_id = 1 + coalesce(
            (SELECT max(id) FROM contact_recipients r WHERE r.list_id = l.id), 0);
        DROP SEQUENCE IF EXISTS contact_recipient_ids;
    END IF;
END $$
""",
    ),
    Migration(
        7,
        "claims are found by their send (what a cancellation stopped and what had gone)",
        "DO $$ BEGIN IF to_regclass('submit_claims') IS NOT NULL THEN"
        " CREATE INDEX IF NOT EXISTS submit_claims_send ON submit_claims (send_id);"
        " END IF; END $$",
    ),
)

TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def migrate(database_url: str, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
    """Run the migrations this database has not had, in order, each in a transaction of its
    own with its record; returns the versions run now."""
    applied: list[int] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            conn.execute(TABLE)
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in sorted(migrations, key=lambda m: m.version):
                if migration.version in done:
                    continue
                _apply(conn, migration)
                applied.append(migration.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))
    return applied


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    with conn.transaction():
        conn.execute(migration.sql)
        conn.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
            (migration.version, migration.name),
        )
    log.info("migrated", extra={"version": migration.version, "migration": migration.name})
