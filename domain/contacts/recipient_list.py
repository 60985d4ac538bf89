"""RecipientList: the audit trail of one recipient list (who did what to it, when, how many).

The recipients themselves are working data in PostgreSQL tables (``adapters/contacts``), not
events: a list of a million numbers changes by the import, and its rows are encrypted and can
be erased. What audit and support need is recorded here, with counts and ids only, never a
number, name or field: creation, renames, every import's outcome, exports and deletion.

Invariants: an import job is recorded once (a worker that records it again after a crash
changes nothing); a deleted list records nothing more.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.contacts.exceptions import InvalidListNameError


class RecipientList(Aggregate):
    account_id: UUID
    name: str
    deleted: bool
    imports: set[UUID]

    class Created(Aggregate.Created):
        account_id: UUID
        name: str
        actor: str

    @event(Created)
    def __init__(self, id: UUID, account_id: UUID, name: str, actor: str) -> None:
        # ``id`` is the list's id in the working tables, chosen when the list is created.
        self.account_id = account_id
        self.name = name
        self.deleted = False
        self.imports = set()

    class Renamed(Aggregate.Event):
        name: str
        actor: str

    def rename(self, name: str, actor: str) -> None:
        if not self.deleted and name != self.name:
            self._renamed(name, actor)

    @event(Renamed)
    def _renamed(self, name: str, actor: str) -> None:
        self.name = name

    class Imported(Aggregate.Event):
        job_id: UUID
        actor: str
        imported: int
        merged: int
        rejected: int

    class ImportFailed(Aggregate.Event):
        job_id: UUID
        actor: str
        reason: str

    def record_import(
        self, job_id: UUID, actor: str, *, imported: int, merged: int, rejected: int
    ) -> None:
        if job_id not in self.imports:
            self._imported(job_id, actor, imported, merged, rejected)

    @event(Imported)
    def _imported(
        self, job_id: UUID, actor: str, imported: int, merged: int, rejected: int
    ) -> None:
        self.imports.add(job_id)

    def record_failed_import(self, job_id: UUID, actor: str, reason: str) -> None:
        if job_id not in self.imports:
            self._import_failed(job_id, actor, reason)

    @event(ImportFailed)
    def _import_failed(self, job_id: UUID, actor: str, reason: str) -> None:
        self.imports.add(job_id)

    class Exported(Aggregate.Event):
        actor: str
        rows: int

    def record_export(self, actor: str, rows: int) -> None:
        self._exported(actor, rows)

    @event(Exported)
    def _exported(self, actor: str, rows: int) -> None:
        pass

    class Deleted(Aggregate.Event):
        actor: str
        recipients: int

    def delete(self, actor: str, recipients: int) -> None:
        if not self.deleted:
            self._deleted(actor, recipients)

    @event(Deleted)
    def _deleted(self, actor: str, recipients: int) -> None:
        self.deleted = True


MAX_NAME = 100


def clean_list_name(name: str) -> str:
    """The name as stored (trimmed); raises ``InvalidListNameError`` (1 to 100 characters)."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidListNameError(f"a list name has 1 to {MAX_NAME} characters")
    return cleaned
