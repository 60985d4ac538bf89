"""The Contacts application: the audit trail of lists, imports, exports, opt-outs and erasures.

Lists and recipients are working data in PostgreSQL tables; this application records what
happened to them (who, when, how many) so that audit and support can replay it. Each method
loads at most one aggregate, calls one domain method and saves; recording again what is already
recorded changes nothing, so callers may retry after a crash.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError

from domain.base import KontorApplication
from domain.contacts.erasure import Erasure
from domain.contacts.exceptions import ListNotFoundError, OptOutNotFoundError
from domain.contacts.opt_out import OptOut, opt_out_id
from domain.contacts.recipient_list import RecipientList


class Contacts(KontorApplication):
    # -- lists -----------------------------------------------------------------------------

    def record_list_created(self, list_id: UUID, account_id: UUID, name: str, actor: str) -> None:
        if list_id not in self.repository:
            self.save(RecipientList(id=list_id, account_id=account_id, name=name, actor=actor))

    def recipient_list(self, list_id: UUID) -> RecipientList:
        try:
            recipient_list: RecipientList = self.repository.get(list_id)
        except AggregateNotFoundError as exc:
            raise ListNotFoundError(list_id) from exc
        return recipient_list

    def record_list_renamed(self, list_id: UUID, name: str, actor: str) -> None:
        recipient_list = self.recipient_list(list_id)
        recipient_list.rename(name, actor)
        self.save(recipient_list)

    def record_list_deleted(self, list_id: UUID, actor: str, recipients: int) -> None:
        recipient_list = self.recipient_list(list_id)
        recipient_list.delete(actor, recipients)
        self.save(recipient_list)

    def record_import(
        self, list_id: UUID, job_id: UUID, actor: str, *, imported: int, merged: int, rejected: int
    ) -> None:
        recipient_list = self.recipient_list(list_id)
        recipient_list.record_import(
            job_id, actor, imported=imported, merged=merged, rejected=rejected
        )
        self.save(recipient_list)

    def record_failed_import(self, list_id: UUID, job_id: UUID, actor: str, reason: str) -> None:
        recipient_list = self.recipient_list(list_id)
        recipient_list.record_failed_import(job_id, actor, reason)
        self.save(recipient_list)

    def record_export(self, list_id: UUID, actor: str, rows: int) -> None:
        recipient_list = self.recipient_list(list_id)
        recipient_list.record_export(actor, rows)
        self.save(recipient_list)

    # -- opt-outs --------------------------------------------------------------------------

    def opt_out(self, account_id: UUID, number_hash: str, actor: str, source: str) -> bool:
        """Record an opt-out; ``False`` when the number was already opted out."""
        try:
            existing: OptOut = self.repository.get(opt_out_id(account_id, number_hash))
        except AggregateNotFoundError:
            self.save(
                OptOut(account_id=account_id, number_hash=number_hash, actor=actor, source=source)
            )
            return True
        changed = existing.renew(actor, source)
        self.save(existing)
        return changed

    def opt_out_record(self, account_id: UUID, number_hash: str) -> OptOut | None:
        try:
            record: OptOut = self.repository.get(opt_out_id(account_id, number_hash))
        except AggregateNotFoundError:
            return None
        return record

    def withdraw_opt_out(self, account_id: UUID, number_hash: str, actor: str, reason: str) -> None:
        record = self.opt_out_record(account_id, number_hash)
        if record is None:
            raise OptOutNotFoundError
        record.withdraw(actor, reason)
        self.save(record)

    # -- erasure ---------------------------------------------------------------------------

    def record_erasure(
        self,
        account_id: UUID,
        number_hash: str,
        actor: str,
        *,
        lists: int,
        recipients: int,
        key_shredded: bool,
        erasure_id: UUID | None = None,
    ) -> UUID:
        """Record an erasure (and, for an opted-out person, that their number is gone)."""
        opted_out = self.opt_out_record(account_id, number_hash)
        active = opted_out is not None and opted_out.active
        erasure = Erasure(
            account_id=account_id,
            number_hash=number_hash,
            actor=actor,
            lists=lists,
            recipients=recipients,
            opted_out=active,
            key_shredded=key_shredded,
            id=erasure_id or uuid4(),
        )
        changed: list[Any] = [erasure]
        if opted_out is not None and active:
            opted_out.record_erasure(actor)
            changed.append(opted_out)
        self.save(*changed)
        return erasure.id
