"""Fakes of the send path's ports: the staging table, the read models' due sends and sweep
candidates, the registrations log, the registration slots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from domain.contacts.exceptions import ListImportingError, ListNotFoundError
from domain.messaging.list_acceptance import OPEN, AcceptanceJob, JobState
from domain.messaging.records import RecordedMessage
from domain.personal import PersonalData, SealedPersonalData
from services.ports import Keys


class FakeStaging:
    """``send_recipients`` in a dict, sealing as the real table does (with the given keys)."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.sends: dict[UUID, list[RecordedMessage]] = {}
        self.discarded: list[UUID] = []

    def stage(self, send_id: UUID, messages: Sequence[RecordedMessage]) -> None:
        self.sends.setdefault(send_id, list(messages))

    def chunk(self, send_id: UUID, start: int, size: int) -> list[RecordedMessage]:
        return self.sends.get(send_id, [])[start : start + size]

    def sealed_chunk(self, send_id: UUID, start: int, size: int) -> list[RecordedMessage]:
        return [
            RecordedMessage(
                index=m.index,
                message_id=m.message_id,
                number_hash=m.number_hash,
                number=self._sealed(m.number),
                text=self._sealed(m.text),
                region=m.region,
                encoding=m.encoding,
                parts=m.parts,
                price=m.price,
                delivery_reports=m.delivery_reports,
            )
            for m in self.chunk(send_id, start, size)
        ]

    def discard(self, send_id: UUID) -> None:
        self.sends.pop(send_id, None)
        self.discarded.append(send_id)

    def _sealed(self, value: PersonalData) -> PersonalData:
        sealed = self.keys.seal(value.key_id, (value.value or "").encode())
        return SealedPersonalData(value.key_id, sealed)


class FakeDueSends:
    def __init__(self) -> None:
        self.sends: list[UUID] = []

    def due_sends(self, now: datetime, limit: int) -> list[UUID]:
        return self.sends[:limit]


@dataclass(frozen=True)
class OpenMessage:
    message_id: UUID
    send_id: UUID
    account_id: UUID


@dataclass
class FakeCandidates:
    """The sweeper's read-model candidates, set by the test."""

    due: list[UUID] = field(default_factory=list)
    stuck: list[UUID] = field(default_factory=list)
    lots: list[UUID] = field(default_factory=list)
    open: list[tuple[datetime, OpenMessage]] = field(default_factory=list)

    def reservations_due(self, now: datetime) -> list[UUID]:
        return list(self.due)

    def expired_sends_not_completed(self, now: datetime) -> list[UUID]:
        return list(self.stuck)

    def accounts_with_expired_lots(self, now: datetime) -> list[UUID]:
        return list(self.lots)

    def messages_without_final_report(
        self, recorded_before: datetime, limit: int
    ) -> list[OpenMessage]:
        return [m for at, m in self.open if at <= recorded_before][:limit]


@dataclass(frozen=True)
class Registration:
    position: int
    account_id: UUID
    registered_at: datetime


@dataclass
class FakeRegistrationLog:
    registrations: list[Registration] = field(default_factory=list)
    position: int = 0

    def record(self, account_id: UUID, at: datetime) -> None:
        self.registrations.append(Registration(len(self.registrations) + 1, account_id, at))

    def registrations_after(self, position: int, limit: int) -> list[Registration]:
        return [r for r in self.registrations if r.position > position][:limit]

    def repaired_up_to(self) -> int:
        return self.position

    def save_position(self, position: int) -> None:
        self.position = max(self.position, position)


@dataclass
class FakeRegistrationSlots:
    """``services.registration_limit.RegistrationSlots`` in memory: slot -> (client, time)."""

    taken: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    next_slot: int = 1

    def take(self, client: str, now: datetime, since: datetime, limit: int) -> int | None:
        if len(self._mine(client, since)) >= limit:
            return None
        slot, self.next_slot = self.next_slot, self.next_slot + 1
        self.taken[slot] = (client, now)
        return slot

    def oldest(self, client: str, since: datetime) -> datetime | None:
        return min(self._mine(client, since), default=None)

    def _mine(self, client: str, since: datetime) -> list[datetime]:
        return [at for c, at in self.taken.values() if c == client and at > since]

    def give_back(self, slot: int) -> None:
        self.taken.pop(slot, None)


@dataclass(frozen=True)
class FakeListed:
    id: int
    e164: str
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeLists:
    """``services.list_acceptance.ListChunks`` over lists set by the test; ``fail_at`` makes
    the read of that chunk (counted from 1) raise, as a database outage would."""

    lists: dict[tuple[UUID, UUID], list[FakeListed]] = field(default_factory=dict)
    importing: set[UUID] = field(default_factory=set)
    reads: int = 0
    fail_at: int | None = None

    def add(self, account_id: UUID, list_id: UUID, numbers: list[str], **fields: str) -> None:
        self.lists[account_id, list_id] = [
            FakeListed(n + 1, number, dict(fields)) for n, number in enumerate(numbers)
        ]

    def size(self, account_id: UUID, list_id: UUID) -> int:
        if (account_id, list_id) not in self.lists:
            raise ListNotFoundError(list_id)
        if list_id in self.importing:
            raise ListImportingError(list_id)
        return len(self.lists[account_id, list_id])

    def chunk(self, account_id: UUID, list_id: UUID, after: int, size: int) -> list[FakeListed]:
        self.reads += 1
        if self.fail_at == self.reads:
            raise ConnectionError("the database went away")
        return [r for r in self.lists.get((account_id, list_id), []) if r.id > after][:size]


class FakeAcceptanceJobs:
    """``services.list_acceptance.AcceptanceJobs`` in a dict, staging into a ``FakeStaging``."""

    def __init__(self, staging: FakeStaging) -> None:
        self.staging = staging
        self.jobs: dict[UUID, AcceptanceJob] = {}
        self.chunk_sizes: list[int] = []

    def create(self, job: AcceptanceJob) -> AcceptanceJob:
        return self.jobs.setdefault(job.send_id, job)

    def get(self, send_id: UUID) -> AcceptanceJob | None:
        return self.jobs.get(send_id)

    def open_jobs(self, limit: int) -> list[UUID]:
        found = [j for j in self.jobs.values() if j.state in OPEN]
        return [j.send_id for j in sorted(found, key=lambda j: j.created_at)][:limit]

    def unaccepted(self, account_id: UUID, since: datetime) -> list[AcceptanceJob]:
        found = [
            j
            for j in self.jobs.values()
            if j.account_id == account_id
            and j.state is not JobState.ACCEPTED
            and (j.state in OPEN or (j.updated_at or j.created_at) > since)
        ]
        return sorted(found, key=lambda j: j.created_at, reverse=True)

    def save_chunk(
        self, before: AcceptanceJob, after: AcceptanceJob, messages: Sequence[RecordedMessage]
    ) -> bool:
        if not self.transition(before, after):
            return False
        self.staging.sends.setdefault(after.send_id, []).extend(messages)
        self.chunk_sizes.append(len(messages))
        return True

    def transition(self, before: AcceptanceJob, after: AcceptanceJob) -> bool:
        current = self.jobs.get(before.send_id)
        if current is None or (current.state, current.read) != (before.state, before.read):
            return False
        self.jobs[before.send_id] = after
        return True

    def discard(self, send_id: UUID) -> None:
        self.staging.discard(send_id)


class FakeSendsActedOn:
    """The sends of each account the history should look at (as the read side names the held
    and cancelled ones), set by the test."""

    def __init__(self) -> None:
        self.sends: dict[UUID, list[UUID]] = {}

    def acted_on(self, account_id: UUID) -> list[UUID]:
        return list(self.sends.get(account_id, ()))
