"""What request handlers need, handed in as one dependency (``ctx: ApiContext``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.di import NamedDependency
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from api.auth import Authenticator, Principal
from domain.tariff import Tariff
from kontor.settings import Settings

Clock = Callable[[], datetime]
PricePerSms = Callable[[Tariff, datetime], int]


@dataclass
class ApiContext:
    settings: Settings
    backend: Backend
    authenticator: Authenticator
    clock: Clock
    price_per_sms: PricePerSms

    def now(self) -> datetime:
        return self.clock()

    @property
    def pool(self) -> ConnectionPool[Any]:
        if self.backend.pool is None:
            raise RuntimeError("read models need PostgreSQL")
        return self.backend.pool


Ctx = NamedDependency[ApiContext]
AuthRequest = Request[Principal, Any, Any]
