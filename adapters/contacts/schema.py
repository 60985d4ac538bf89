"""The Contacts working tables, created idempotently at start-up (``ensure_schema``).

Numbers, fields and uploaded files are stored only as AES-GCM ciphertext under the account's
data key (``sealed``); numbers are found by their keyed hash (``number_hash``, 32 bytes of
HMAC-SHA256 under the account's lookup secret). Recipients carry no foreign key to their list:
a per-row foreign-key check would cost a bulk import a third of its speed, and every write
path goes through the list row anyway (deleting a list deletes its rows in the same
transaction).
"""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

SCHEMA_LOCK = 0x6B6F6E746F72  # advisory lock: several processes may start at once

SCHEMA = """
CREATE TABLE IF NOT EXISTS contact_lists (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    name text NOT NULL,
    recipient_count bigint NOT NULL DEFAULT 0 CHECK (recipient_count >= 0),
    fields text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    next_recipient_id bigint NOT NULL DEFAULT 1
    -- recipient ids are numbers per list (1, 2, ...), never reused in the list: they say
    -- nothing about other lists or accounts (a database of an earlier release, whose ids came
    -- from one global sequence, is renumbered by migration 6)
);
CREATE INDEX IF NOT EXISTS contact_lists_account ON contact_lists (account_id, created_at, id);

CREATE TABLE IF NOT EXISTS contact_recipients (
    list_id uuid NOT NULL,
    id bigint NOT NULL,
    number_hash bytea NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (list_id, id),
    UNIQUE (list_id, number_hash)
);

CREATE TABLE IF NOT EXISTS contact_opt_outs (
    id uuid NOT NULL UNIQUE,
    account_id uuid NOT NULL,
    number_hash bytea NOT NULL,
    sealed bytea,
    source text NOT NULL,
    actor text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, number_hash)
);
CREATE INDEX IF NOT EXISTS contact_opt_outs_listing ON contact_opt_outs (account_id, created_at);

CREATE TABLE IF NOT EXISTS contact_imports (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    list_id uuid NOT NULL,
    actor text NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    format text NOT NULL,
    size_bytes bigint NOT NULL,
    chars_total bigint NOT NULL DEFAULT 0,
    chars_read bigint NOT NULL DEFAULT 0,
    rows_read bigint NOT NULL DEFAULT 0,
    imported bigint NOT NULL DEFAULT 0,
    merged bigint NOT NULL DEFAULT 0,
    rejected bigint NOT NULL DEFAULT 0,
    encoding text,
    delimiter text,
    error_code text,
    error_detail text,
    claim uuid,
    attempts int NOT NULL DEFAULT 0,
    recorded boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    heartbeat_at timestamptz,
    finished_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS contact_imports_one_per_list
    ON contact_imports (list_id) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS contact_imports_pending
    ON contact_imports (created_at) WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS contact_imports_unrecorded
    ON contact_imports (finished_at) WHERE NOT recorded AND state IN ('done', 'failed');

CREATE TABLE IF NOT EXISTS contact_import_chunks (
    job_id uuid NOT NULL,
    seq int NOT NULL,
    sealed bytea NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE IF NOT EXISTS contact_import_rejections (
    job_id uuid NOT NULL,
    line bigint NOT NULL,
    reason text NOT NULL,
    number_hash bytea,
    sealed bytea,
    PRIMARY KEY (job_id, line)
);
CREATE INDEX IF NOT EXISTS contact_import_rejections_hash
    ON contact_import_rejections (number_hash) WHERE number_hash IS NOT NULL;
"""


def ensure_schema(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        conn.execute(SCHEMA)
