"""List campaigns being accepted (``services.list_acceptance``): one row per campaign, with its
request, its progress through the list and how it ended; the staged chunks go to
``send_recipients`` in the transaction that moves the progress.

Every change is a compare-and-set on the job's state and progress (``read``), so a crashed
worker's chunk, a second worker's copy of a chunk and a chunk that raced a cancellation change
nothing. The message text is personal data: it is sealed under the account's key, as the
send's template is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.schema import ensure_schema
from adapters.postgres.send_staging import Staging, copy_rows
from domain.messaging.list_acceptance import AcceptanceJob, JobState, Refusal
from domain.messaging.records import RecordedMessage
from domain.tariff import Tariff

SCHEMA = """
CREATE TABLE IF NOT EXISTS send_acceptances (
    send_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    list_id uuid NOT NULL,
    state text NOT NULL,
    text_ct bytea NOT NULL,
    sender text NOT NULL,
    tariff text NOT NULL,
    schedule_at timestamptz,
    normalize boolean NOT NULL,
    idempotency_key text,
    name text NOT NULL,
    keep_repeats boolean NOT NULL,
    fingerprint text NOT NULL,
    month_volume bigint NOT NULL,
    list_size bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz,
    after_id bigint NOT NULL DEFAULT 0,
    read bigint NOT NULL DEFAULT 0,
    staged bigint NOT NULL DEFAULT 0,
    parts bigint NOT NULL DEFAULT 0,
    expected bigint NOT NULL DEFAULT 0,
    skipped jsonb NOT NULL DEFAULT '{}',
    refusal jsonb
);
CREATE INDEX IF NOT EXISTS send_acceptances_open ON send_acceptances (created_at)
    WHERE state IN ('accepting', 'reserving');
CREATE INDEX IF NOT EXISTS send_acceptances_account ON send_acceptances (account_id, created_at)
    WHERE state <> 'accepted';
"""

_COLUMNS = (
    "send_id, account_id, list_id, state, text_ct, sender, tariff, schedule_at, normalize,"
    " idempotency_key, name, keep_repeats, fingerprint, month_volume, list_size, created_at,"
    " updated_at, after_id, read, staged, parts, expected, skipped, refusal"
)
_PROGRESS = (
    "state = %s, updated_at = %s, after_id = %s, read = %s, staged = %s, parts = %s,"
    " expected = %s, skipped = %s, refusal = %s"
)


@dataclass
class PostgresAcceptanceJobs:
    pool: ConnectionPool[Any]
    keyring: Keyring
    staging: Staging

    def setup(self) -> None:
        with self.pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def create(self, job: AcceptanceJob) -> AcceptanceJob:
        text_ct = self.keyring.seal(job.account_id, job.text.encode(), owner=job.account_id)
        values = (
            job.send_id, job.account_id, job.list_id, job.state.value, text_ct, job.sender,
            job.tariff.value, job.schedule_at, job.normalize, job.idempotency_key, job.name,
            job.keep_repeats, job.fingerprint, job.month_volume, job.list_size, job.created_at,
            job.updated_at, job.after, job.read, job.staged, job.parts, job.expected,
            Jsonb(dict(job.skipped)), _refusal(job.refusal),
        )  # fmt: skip
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO send_acceptances ({_COLUMNS})"  # noqa: S608 - fixed names
                f" VALUES ({', '.join(['%s'] * len(values))}) ON CONFLICT (send_id) DO NOTHING",
                values,
            )
        stored = self.get(job.send_id)
        if stored is None:  # pragma: no cover - inserted or present
            raise RuntimeError("the acceptance job vanished")
        return stored

    def get(self, send_id: UUID) -> AcceptanceJob | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM send_acceptances WHERE send_id = %s",  # noqa: S608
                (send_id,),
            ).fetchone()
        return None if row is None else self._job(row)

    def open_jobs(self, limit: int) -> list[UUID]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT send_id FROM send_acceptances WHERE state IN ('accepting', 'reserving')"
                " ORDER BY created_at LIMIT %s",
                (limit,),
            ).fetchall()
        return [row[0] for row in rows]

    def unaccepted(self, account_id: UUID, since: datetime) -> list[AcceptanceJob]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM send_acceptances"  # noqa: S608 - fixed names
                " WHERE account_id = %s AND state <> 'accepted'"
                " AND (state IN ('accepting', 'reserving') OR updated_at > %s)"
                " ORDER BY created_at DESC LIMIT 100",
                (account_id, since),
            ).fetchall()
        return [self._job(row) for row in rows]

    def save_chunk(
        self, before: AcceptanceJob, after: AcceptanceJob, messages: Sequence[RecordedMessage]
    ) -> bool:
        rows = self.staging.sealed_rows(after.send_id, messages)
        with self.pool.connection() as conn, conn.transaction():
            if not self._move(conn, before, after):
                return False
            copy_rows(conn, rows)
        return True

    def transition(self, before: AcceptanceJob, after: AcceptanceJob) -> bool:
        with self.pool.connection() as conn:
            return self._move(conn, before, after)

    def discard(self, send_id: UUID) -> None:
        self.staging.discard(send_id)

    def _move(self, conn: Any, before: AcceptanceJob, after: AcceptanceJob) -> bool:
        moved = conn.execute(
            f"UPDATE send_acceptances SET {_PROGRESS}"  # noqa: S608 - fixed names
            " WHERE send_id = %s AND state = %s AND read = %s",
            (
                after.state.value, after.updated_at, after.after, after.read, after.staged,
                after.parts, after.expected, Jsonb(dict(after.skipped)), _refusal(after.refusal),
                before.send_id, before.state.value, before.read,
            ),
        )  # fmt: skip
        return bool(moved.rowcount)

    def _job(self, row: tuple[Any, ...]) -> AcceptanceJob:
        (send_id, account_id, list_id, state, text_ct, sender, tariff, schedule_at, normalize,
         idempotency_key, name, keep_repeats, fingerprint, month_volume, list_size, created_at,
         updated_at, after_id, read, staged, parts, expected, skipped, refusal) = row  # fmt: skip
        text = self.keyring.open(account_id, bytes(text_ct))
        return AcceptanceJob(
            send_id=send_id,
            account_id=account_id,
            list_id=list_id,
            text=text.decode() if text is not None else "",
            sender=sender,
            tariff=Tariff(tariff),
            schedule_at=schedule_at,
            normalize=normalize,
            idempotency_key=idempotency_key,
            name=name,
            keep_repeats=keep_repeats,
            fingerprint=fingerprint,
            month_volume=month_volume,
            list_size=list_size,
            created_at=created_at,
            state=JobState(state),
            after=after_id,
            read=read,
            staged=staged,
            parts=parts,
            expected=expected,
            skipped=dict(skipped),
            refusal=msgspec.convert(refusal, Refusal) if refusal is not None else None,
            updated_at=updated_at,
        )


def _refusal(refusal: Refusal | None) -> Jsonb | None:
    return None if refusal is None else Jsonb(msgspec.to_builtins(refusal))
