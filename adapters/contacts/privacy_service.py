"""Opt-outs and erasure as the API (and later STOP replies) use them.

Opt-outs: the table row is written before the history event, so a crash in between leaves the
number suppressed (the safe side) and a retry records the event. A withdrawal records its event
(who, why) before the row goes, so a number never leaves the list unrecorded.

Erasure of one person (GDPR Art. 17), by number: in one transaction their entry is deleted from
every list of the account, their number's ciphertext is removed from the opt-out list (the
keyed hash stays, so they are never messaged again) and from import rejection reports; then
their per-recipient data key (``domain.personal.recipient_key_id``) is shredded, which redacts
their message numbers and texts in every event sealed under it; then the erasure is recorded,
naming them only by keyed hash. Uploads still waiting in the import queue are sealed and
deleted once processed; an import running at that moment may add them again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg_pool import ConnectionPool

from adapters.contacts import optouts
from adapters.contacts.optouts import OptOutRow
from adapters.contacts.sealing import AccountSeal
from adapters.crypto.keyring import Keyring
from domain.contacts.application import Contacts
from domain.contacts.exceptions import OptOutNotFoundError, OptOutWithdrawalError
from domain.contacts.numbers import NumberNormaliser
from domain.personal import recipient_key_id


@dataclass(frozen=True, slots=True)
class ErasureResult:
    id: UUID
    lists: int
    recipients: int
    opted_out: bool
    key_shredded: bool


@dataclass
class PrivacyService:
    pool: ConnectionPool[Any]
    keyring: Keyring
    contacts: Contacts
    normaliser: NumberNormaliser

    def opt_out(
        self, account_id: UUID, number: str, *, actor: str, source: str, now: datetime
    ) -> tuple[OptOutRow, bool]:
        """Put a number on the account's opt-out list; ``True`` if it was not on it."""
        e164 = self.normaliser.normalise(number).e164
        seal = AccountSeal(self.keyring, account_id)
        number_hash = seal.number_hash(e164)
        with self.pool.connection() as conn:
            created = optouts.add(conn, seal, e164, source=source, actor=actor, now=now)
            row = optouts.page(conn, seal, after=None, limit=1, number_hash=number_hash)[0]
        self.contacts.opt_out(account_id, number_hash.hex(), actor, source)
        return row, created

    def opt_outs_page(
        self,
        account_id: UUID,
        *,
        after: tuple[datetime, bytes] | None,
        limit: int,
        number: str | None = None,
    ) -> list[OptOutRow]:
        seal = AccountSeal(self.keyring, account_id)
        number_hash = None
        if number is not None:
            number_hash = seal.number_hash(self.normaliser.normalise(number).e164)
        with self.pool.connection() as conn:
            return optouts.page(conn, seal, after=after, limit=limit, number_hash=number_hash)

    def withdraw(self, account_id: UUID, opt_out_id: UUID, *, actor: str, reason: str) -> None:
        """Take a number off the opt-out list: an explicit, recorded action with a reason."""
        if not reason.strip():
            raise OptOutWithdrawalError("taking a number off the opt-out list needs a reason")
        with self.pool.connection() as conn:
            number_hash = optouts.hash_of(conn, account_id, opt_out_id)
        if number_hash is None:
            raise OptOutNotFoundError
        hash_hex = number_hash.hex()
        record = self.contacts.opt_out_record(account_id, hash_hex)
        if record is None:  # the opt-out's own event was lost in a crash: record it first
            self.contacts.opt_out(account_id, hash_hex, actor, "recovered")
            record = self.contacts.opt_out_record(account_id, hash_hex)
        if record is not None and record.active:
            self.contacts.withdraw_opt_out(account_id, hash_hex, actor, reason)
        with self.pool.connection() as conn:
            optouts.remove(conn, account_id, number_hash)

    def erase(
        self, account_id: UUID, number: str, *, actor: str, erasure_id: UUID | None = None
    ) -> ErasureResult:
        e164 = self.normaliser.normalise(number).e164
        seal = AccountSeal(self.keyring, account_id)
        number_hash = seal.number_hash(e164)
        with self.pool.connection() as conn, conn.transaction():
            touched = conn.execute(
                "WITH gone AS (DELETE FROM contact_recipients r USING contact_lists l"
                "   WHERE l.account_id = %s AND r.list_id = l.id AND r.number_hash = %s"
                "   RETURNING r.list_id)"
                " UPDATE contact_lists SET recipient_count = recipient_count - 1"
                " WHERE id IN (SELECT list_id FROM gone) RETURNING id",
                (account_id, number_hash),
            ).fetchall()
            conn.execute(
                "DELETE FROM contact_import_rejections WHERE number_hash = %s"
                " AND job_id IN (SELECT id FROM contact_imports WHERE account_id = %s)",
                (number_hash, account_id),
            )
            opted_out = optouts.forget_number(conn, account_id, number_hash)
        shredded = self.keyring.shred(recipient_key_id(account_id, number_hash.hex()))
        recorded = self.contacts.record_erasure(
            account_id,
            number_hash.hex(),
            actor,
            lists=len(touched),
            recipients=len(touched),
            key_shredded=shredded,
            erasure_id=erasure_id or uuid4(),
        )
        return ErasureResult(recorded, len(touched), len(touched), opted_out, shredded)
