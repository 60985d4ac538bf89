"""The ``contact_opt_outs`` table: the account-wide suppression list, by keyed hash.

A row means "never send to this number from this account". It holds the number sealed under
the account's key for display; after the person's erasure only the hash remains (``sealed``
is NULL), so they stay suppressed without the platform knowing their number.

The send path asks ``suppressed_hashes(pool, account_id, hashes)`` once per batch: one indexed
query (primary key ``(account_id, number_hash)``) for any number of hashes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.contacts.sealing import AccountSeal
from domain.contacts.opt_out import opt_out_id


@dataclass(frozen=True, slots=True)
class OptOutRow:
    id: UUID
    """``domain.contacts.opt_out.opt_out_id``: also the id of its history (``OptOut``)."""
    number_hash: bytes
    e164: str | None
    """``None`` once the person was erased (or the account's key shredded)."""
    source: str
    actor: str
    created_at: datetime


def suppressed_hashes(
    pool: ConnectionPool[Any], account_id: UUID, hashes: Collection[str]
) -> set[str]:
    """Which of ``hashes`` (hex ``Keyring.lookup_hash`` values of E.164 numbers) the account
    must not send to. One query, whatever the batch size; send paths call it per batch."""
    if not hashes:
        return set()
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT number_hash FROM contact_opt_outs"
            " WHERE account_id = %s AND number_hash = ANY(%b)",
            (account_id, [bytes.fromhex(h) for h in hashes]),
        ).fetchall()
    return {bytes(row[0]).hex() for row in rows}


class PostgresOptOuts:
    """``services.ports.OptOuts`` on the opt-out table."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool

    def suppressed(self, account_id: UUID, number_hashes: Collection[str]) -> set[str]:
        return suppressed_hashes(self.pool, account_id, number_hashes)


def add(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    e164: str,
    *,
    source: str,
    actor: str,
    now: datetime,
) -> bool:
    """Put the number on the list; ``False`` when it was already there (the row keeps its
    first date; a number erased meanwhile gets its ciphertext back)."""
    number_hash = seal.number_hash(e164)
    row = conn.execute(
        "INSERT INTO contact_opt_outs"
        " (id, account_id, number_hash, sealed, source, actor, created_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (account_id, number_hash) DO UPDATE"
        " SET sealed = coalesce(contact_opt_outs.sealed, EXCLUDED.sealed)"
        " RETURNING xmax = 0",
        (
            opt_out_id(seal.account_id, number_hash.hex()),
            seal.account_id,
            number_hash,
            seal.seal(e164, {}),
            source,
            actor,
            now,
        ),
    ).fetchone()
    return bool(row and row[0])


def remove(conn: psycopg.Connection[Any], account_id: UUID, number_hash: bytes) -> bool:
    deleted = conn.execute(
        "DELETE FROM contact_opt_outs WHERE account_id = %s AND number_hash = %s",
        (account_id, number_hash),
    )
    return deleted.rowcount > 0


def forget_number(conn: psycopg.Connection[Any], account_id: UUID, number_hash: bytes) -> bool:
    """Remove the number's ciphertext, keep the hash; ``True`` if the number is opted out."""
    updated = conn.execute(
        "UPDATE contact_opt_outs SET sealed = NULL WHERE account_id = %s AND number_hash = %s",
        (account_id, number_hash),
    )
    return updated.rowcount > 0


def page(
    conn: psycopg.Connection[Any],
    seal: AccountSeal,
    *,
    after: tuple[datetime, bytes] | None,
    limit: int,
    number_hash: bytes | None = None,
) -> list[OptOutRow]:
    where = [sql.SQL("account_id = %s")]
    params: list[Any] = [seal.account_id]
    if number_hash is not None:
        where.append(sql.SQL("number_hash = %s"))
        params.append(number_hash)
    if after is not None:
        where.append(sql.SQL("(created_at, number_hash) > (%s, %s)"))
        params.extend(after)
    query = sql.SQL(
        "SELECT id, number_hash, sealed, source, actor, created_at FROM contact_opt_outs"
        " WHERE {} ORDER BY created_at, number_hash LIMIT %s"
    ).format(sql.SQL(" AND ").join(where))
    rows = conn.execute(query, (*params, limit)).fetchall()
    result = []
    for row_id, row_hash, sealed, source, actor, created_at in rows:
        e164 = None if sealed is None else seal.open(sealed).e164
        result.append(OptOutRow(row_id, bytes(row_hash), e164, source, actor, created_at))
    return result


def hash_of(conn: psycopg.Connection[Any], account_id: UUID, row_id: UUID) -> bytes | None:
    """The number hash of the account's opt-out ``row_id`` (``None``: no such opt-out)."""
    row = conn.execute(
        "SELECT number_hash FROM contact_opt_outs WHERE account_id = %s AND id = %s",
        (account_id, row_id),
    ).fetchone()
    return None if row is None else bytes(row[0])
