"""Sign-in sessions and failed sign-in attempts in PostgreSQL (``services.signin``'s
``SessionStore`` and ``Attempts``), shared by every API process.

A session row is found by the SHA-256 of its cookie's token (the token itself is nowhere);
revoking deletes the row, so a revoked session is gone for every process at once. Attempts
are one row per failure, under a client digest or the digest of a name nobody has; rows older
than a day are deleted as new ones come.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema
from domain.accounts.session import StoredSession
from domain.accounts.user import UserRole

SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_sessions (
    token_hash bytea PRIMARY KEY,
    session_id uuid NOT NULL UNIQUE,
    csrf_token text NOT NULL,
    user_id uuid NOT NULL,
    account_id uuid,
    role text NOT NULL,
    username text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    user_agent text NOT NULL DEFAULT '',
    setup_required boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions (user_id);
CREATE TABLE IF NOT EXISTS signin_failures (
    failure bigserial PRIMARY KEY,
    key text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_failures_key ON signin_failures (key, failed_at);
CREATE TABLE IF NOT EXISTS one_time_tokens (
    token_hash bytea PRIMARY KEY,
    purpose text NOT NULL,
    subject_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS one_time_tokens_expiry ON one_time_tokens (expires_at);
"""

KEEP_FAILURES = timedelta(days=1)
COLUMNS = (
    "token_hash, session_id, csrf_token, user_id, account_id, role, username, created_at,"
    " last_seen_at, expires_at, user_agent, setup_required"
)


def _session(row: dict[str, Any]) -> StoredSession:
    return StoredSession(
        session_id=row["session_id"],
        token_hash=bytes(row["token_hash"]),
        csrf_token=row["csrf_token"],
        user_id=row["user_id"],
        account_id=row["account_id"],
        role=UserRole(row["role"]),
        username=row["username"],
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
        user_agent=row["user_agent"],
        setup_required=row["setup_required"],
    )


class PostgresSessions:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def setup(self) -> None:
        with self.pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

    def create(self, session: StoredSession) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                f"INSERT INTO auth_sessions ({COLUMNS})"  # noqa: S608 - constant columns
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    session.token_hash, session.session_id, session.csrf_token,
                    session.user_id, session.account_id, session.role.value, session.username,
                    session.created_at, session.last_seen_at, session.expires_at,
                    session.user_agent, session.setup_required,
                ),
            )  # fmt: skip

    def find(self, token_hash: bytes) -> StoredSession | None:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                f"SELECT {COLUMNS} FROM auth_sessions WHERE token_hash = %s",  # noqa: S608
                (token_hash,),
                prepare=True,
            ).fetchone()
        return None if row is None else _session(row)

    def touch(self, session_id: UUID, at: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE auth_sessions SET last_seen_at = greatest(last_seen_at, %s)"
                " WHERE session_id = %s",
                (at, session_id),
            )

    def of_user(self, user_id: UUID, now: datetime, idle: timedelta) -> Sequence[StoredSession]:
        with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(
                f"SELECT {COLUMNS} FROM auth_sessions"  # noqa: S608 - constant columns
                " WHERE user_id = %s AND expires_at > %s AND last_seen_at > %s"
                " ORDER BY created_at DESC",
                (user_id, now, now - idle),
            ).fetchall()
        return [_session(row) for row in rows]

    def revoke(self, session_id: UUID, user_id: UUID) -> bool:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "DELETE FROM auth_sessions WHERE session_id = %s AND user_id = %s",
                (session_id, user_id),
            )
            return bool(cur.rowcount > 0)

    def setup_done(self, user_id: UUID) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE auth_sessions SET setup_required = false WHERE user_id = %s", (user_id,)
            )

    def setup_needed(self, user_ids: Collection[UUID]) -> None:
        if user_ids:
            with self.pool.connection() as conn:
                conn.execute(
                    "UPDATE auth_sessions SET setup_required = true WHERE user_id = ANY(%s)",
                    (list(user_ids),),
                )

    def revoke_user(self, user_id: UUID, keep: UUID | None = None) -> int:
        with self.pool.connection() as conn:
            cur = conn.execute(
                "DELETE FROM auth_sessions WHERE user_id = %s AND session_id IS DISTINCT FROM %s",
                (user_id, keep),
            )
            return int(cur.rowcount)


class PostgresAttempts:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def failed(self, key: str, at: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "DELETE FROM signin_failures WHERE key = %s AND failed_at < %s",
                (key, at - KEEP_FAILURES),
            )
            conn.execute("INSERT INTO signin_failures (key, failed_at) VALUES (%s, %s)", (key, at))

    def since(self, key: str, since: datetime) -> Sequence[datetime]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT failed_at FROM signin_failures WHERE key = %s AND failed_at > %s"
                " ORDER BY failed_at",
                (key, since),
            ).fetchall()
        return [row[0] for row in rows]


class PostgresOneTimeTokens:
    """Single-use tokens of one purpose (password resets: ``services.password_reset``'s
    ``ResetTokens``; invitations: ``services.team``'s): their SHA-256 only, each naming what
    it is for and taken once (``take`` marks it in the same statement that finds it)."""

    def __init__(self, pool: ConnectionPool[Any], purpose: str) -> None:
        self.pool = pool
        self.purpose = purpose

    def create(self, token_hash: bytes, subject_id: UUID, expires_at: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "DELETE FROM one_time_tokens WHERE expires_at < %s",
                (expires_at - timedelta(days=30),),
            )
            conn.execute(
                "INSERT INTO one_time_tokens (token_hash, purpose, subject_id, expires_at)"
                " VALUES (%s, %s, %s, %s)",
                (token_hash, self.purpose, subject_id, expires_at),
            )

    def peek(self, token_hash: bytes, now: datetime) -> UUID | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT subject_id FROM one_time_tokens WHERE token_hash = %s AND purpose = %s"
                " AND used_at IS NULL AND expires_at > %s",
                (token_hash, self.purpose, now),
            ).fetchone()
        return None if row is None else UUID(str(row[0]))

    def revoke_subject(self, subject_id: UUID, now: datetime) -> None:
        with self.pool.connection() as conn:
            conn.execute(
                "UPDATE one_time_tokens SET used_at = %s WHERE subject_id = %s AND purpose = %s"
                " AND used_at IS NULL",
                (now, subject_id, self.purpose),
            )

    def take(self, token_hash: bytes, now: datetime) -> UUID | None:
        with self.pool.connection() as conn:
            row = conn.execute(
                "UPDATE one_time_tokens SET used_at = %s WHERE token_hash = %s AND purpose = %s"
                " AND used_at IS NULL AND expires_at > %s RETURNING subject_id",
                (now, token_hash, self.purpose, now),
            ).fetchone()
        return None if row is None else UUID(str(row[0]))
