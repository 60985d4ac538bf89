"""What request handlers need, handed in as one dependency (``ctx: ApiContext``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from adapters.jetstream.topology import Topology
from api.auth import Authenticator, Principal
from domain.phone.parser import PhoneNumberParser
from domain.pricing.preview import Recipient
from domain.tariff import Tariff
from services.acceptance import SendAcceptance
from services.adjustments import Credits
from services.administration import Administration
from services.cancellation import SendCancellation
from services.registration import Registrations
from settings import Settings

Clock = Callable[[], datetime]
PricePerSms = Callable[[Tariff, datetime], int]


ListSource = Callable[[UUID, UUID], list[Recipient]]

TARIFF_CACHE_SECONDS = 5.0
"""How long a read-only figure (the balance's SMS count) may use an account's cached tariff."""


@dataclass
class ApiContext:
    settings: Settings
    backend: Backend
    authenticator: Authenticator
    clock: Clock
    price_per_sms: PricePerSms
    acceptance: SendAcceptance
    registrations: Registrations
    credits: Credits
    administration: Administration
    numbers: PhoneNumberParser
    topology: Topology
    cancellation: SendCancellation
    list_source: ListSource | None = None
    _tariffs: dict[UUID, tuple[float, Tariff]] = field(default_factory=dict, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def tariff_of(self, account_id: UUID) -> Tariff:
        """The account's tariff for figures that only display it (the balance asked for on
        every page view): replaying the account on each of those reads costs more than the
        figures themselves. A tariff change shows there within ``TARIFF_CACHE_SECONDS``;
        sending always reads the account itself."""
        now = time.monotonic()
        cached = self._tariffs.get(account_id)
        if cached is None or cached[0] < now:
            if len(self._tariffs) > 100_000:
                self._tariffs.clear()
            cached = (now + TARIFF_CACHE_SECONDS, self.backend.accounts.account(account_id).tariff)
            self._tariffs[account_id] = cached
        return cached[1]

    @property
    def pool(self) -> ConnectionPool[Any]:
        if self.backend.pool is None:
            raise RuntimeError("read models need PostgreSQL")
        return self.backend.pool


Ctx = NamedDependency[ApiContext]
AuthRequest = Request[Principal, Any, Any]
