"""What request handlers need, handed in as one dependency (``ctx: ApiContext``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from adapters.jetstream.topology import Topology
from api.auth import Authenticator, Principal
from domain.phone.parser import PhoneNumberParser
from domain.pricing.pricelist import Rate
from domain.tariff import Tariff
from services.acceptance import SendAcceptance
from services.adjustments import Credits
from services.administration import Administration
from services.cancellation import SendCancellation
from services.list_acceptance import ListAcceptance
from services.password_reset import PasswordResets
from services.registration import Registrations
from services.signin import SignIn
from services.team import TeamService
from services.two_factor import TwoFactor
from settings import Settings

Clock = Callable[[], datetime]
SmsRate = Callable[[Tariff, datetime], Rate]
"""The rate of an SMS to a German mobile number (``adapters.pricelist.default_sms_rate``)."""


TARIFF_CACHE_SECONDS = 5.0
"""How long a read-only figure (the balance's SMS count) may use an account's cached tariff."""


@dataclass
class ApiContext:
    settings: Settings
    backend: Backend
    authenticator: Authenticator
    clock: Clock
    sms_rate: SmsRate
    acceptance: SendAcceptance
    registrations: Registrations
    credits: Credits
    administration: Administration
    numbers: PhoneNumberParser
    topology: Topology
    cancellation: SendCancellation
    signin: SignIn
    password_resets: PasswordResets
    team: TeamService
    two_factor: TwoFactor
    list_acceptance: ListAcceptance | None = None
    """List campaigns, accepted in the background (``None`` without lists)."""
    _tariffs: dict[UUID, tuple[float, Tariff]] = field(default_factory=dict, repr=False)
    _volumes: dict[UUID, tuple[float, int]] = field(default_factory=dict, repr=False)

    def month_volume_of(self, account_id: UUID) -> int:
        """SMS parts the account sent this month, for figures that only display it (the
        balance's price tier): cached ``TARIFF_CACHE_SECONDS`` like the tariff, as summing a
        big account's month on every page view costs more than the rest of the balance."""
        now = time.monotonic()
        cached = self._volumes.get(account_id)
        if cached is None or cached[0] < now:
            if len(self._volumes) > 100_000:
                self._volumes.clear()
            volume = self.acceptance.month_volume(account_id, self.now())
            cached = (now + TARIFF_CACHE_SECONDS, volume)
            self._volumes[account_id] = cached
        return cached[1]

    def now(self) -> datetime:
        return self.clock()

    @staticmethod
    def recorded_now() -> datetime:
        """Now on the event store's clock: "as of T" means the events recorded up to T, and
        they carry eventsourcing's own timestamps (the wall clock; in tests ``now`` may be a
        business clock set elsewhere)."""
        return datetime.now(UTC)

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
