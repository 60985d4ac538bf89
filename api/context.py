"""What request handlers need, handed in as one dependency (``ctx: ApiContext``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from adapters.jetstream import Topology
from api.auth import Authenticator, Principal
from api.sending import SendAcceptance
from domain.phone.parser import PhoneNumberParser
from domain.pricing.preview import Recipient
from domain.tariff import Tariff
from kontor.settings import Settings

Clock = Callable[[], datetime]
PricePerSms = Callable[[Tariff, datetime], int]


ListSource = Callable[[UUID, UUID], list[Recipient]]


@dataclass
class ApiContext:
    settings: Settings
    backend: Backend
    authenticator: Authenticator
    clock: Clock
    price_per_sms: PricePerSms
    acceptance: SendAcceptance
    numbers: PhoneNumberParser
    topology: Topology
    list_source: ListSource | None = None

    def now(self) -> datetime:
        return self.clock()

    @property
    def pool(self) -> ConnectionPool[Any]:
        if self.backend.pool is None:
            raise RuntimeError("read models need PostgreSQL")
        return self.backend.pool


Ctx = NamedDependency[ApiContext]
AuthRequest = Request[Principal, Any, Any]
