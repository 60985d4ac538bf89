"""In-memory fakes of the services' ports (``services/ports.py`` and the ports declared in
each service module), the cosmicpython way: unit tests of a service's rules run in
milliseconds, with no database, broker or carrier."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from uuid import UUID


class FakeClock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class FakeOptOuts:
    def __init__(self) -> None:
        self.lists: dict[UUID, set[str]] = {}

    def opt_out(self, account_id: UUID, number_hash: str) -> None:
        self.lists.setdefault(account_id, set()).add(number_hash)

    def suppressed(self, account_id: UUID, number_hashes: Collection[str]) -> set[str]:
        return self.lists.get(account_id, set()) & set(number_hashes)
