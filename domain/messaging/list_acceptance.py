"""A list campaign being accepted in the background (``services.list_acceptance``): the job's
request, its progress through the list, and how it ended."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from domain.tariff import Tariff


class JobState(enum.StrEnum):
    ACCEPTING = "accepting"
    RESERVING = "reserving"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CANCELLED = "cancelled"


OPEN = frozenset({JobState.ACCEPTING, JobState.RESERVING})


@dataclass(frozen=True)
class Refusal:
    """Why a job was refused: the domain error's class name (the API shows it as the problem
    type the same error has in a request), its message and its attributes."""

    error: str
    detail: str
    attributes: Mapping[str, object] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: Exception) -> Refusal:
        attributes = {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in vars(exc).items()
            if not name.startswith("_")
            and isinstance(value, str | int | float | bool | date | None)
        }
        return cls(type(exc).__name__, str(exc), attributes)


@dataclass(frozen=True)
class AcceptanceJob:
    send_id: UUID
    account_id: UUID
    list_id: UUID
    text: str
    sender: str
    tariff: Tariff
    schedule_at: datetime | None
    normalize: bool
    idempotency_key: str | None
    name: str
    keep_repeats: bool
    fingerprint: str
    month_volume: int
    """Parts the account had sent this month when the campaign was requested."""
    list_size: int
    """Recipients the list held when the campaign was requested."""
    created_at: datetime
    state: JobState = JobState.ACCEPTING
    after: int = 0
    """The id (in the list) of the last recipient read."""
    read: int = 0
    """List recipients read and priced."""
    staged: int = 0
    parts: int = 0
    expected: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)
    refusal: Refusal | None = None
    updated_at: datetime | None = None

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())
