"""A real API (Litestar app on the session's PostgreSQL and NATS) with a controllable clock,
its ledger projections applied on demand, and helpers that speak to it as users do."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar.testing import TestClient

from adapters.backend import Backend, open_backend
from adapters.crypto import apikeys
from api.app import create_app
from kontor.samples import registration
from projections.runner import ProjectionRunner
from settings import Settings
from workers.projections import ledger_runner
from workers.sweeper import sweeper_for

PEPPER = "test-pepper-" + "0" * 20


def settings_with_secrets(base: Settings, **overrides: Any) -> Settings:
    return replace(
        base,
        master_key=secrets.token_hex(32),
        api_key_pepper=PEPPER,
        admin_api_key=apikeys.generate(PEPPER.encode()).plaintext,
        finance_api_key=apikeys.generate(PEPPER.encode()).plaintext,
        registrations_per_hour=10_000,
        **overrides,
    )


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Customer:
    account_id: str
    key: str
    username: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class ApiHarness:
    def __init__(self, client: TestClient[Any], settings: Settings, clock: Clock, backend: Backend):
        self.client = client
        self.settings = settings
        self.clock = clock
        self.backend = backend
        self.runner: ProjectionRunner = ledger_runner(backend)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.admin_api_key}"}

    @property
    def finance(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.finance_api_key}"}

    def catch_up(self) -> None:
        self.runner.catch_up()

    def sweep(self, now: datetime) -> tuple[int, int]:
        """One sweeper round at ``now``: (reservations closed, accounts with expired lots)."""
        swept = sweeper_for(self.backend, self.settings).sweep(now)
        return swept.reservations, swept.accounts

    def register(self, username: str | None = None, **fields: Any) -> Customer:
        username = username or f"user{secrets.token_hex(4)}"
        body = registration(
            username, kind="company", company="Bäckerei Müller GmbH", first_name="Anna",
            last_name="Müller", **fields,
        )  # fmt: skip
        response = self.client.post("/v1/accounts", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        return Customer(data["account_id"], data["api_key"], username)

    def topup(
        self, customer: Customer, net: int, reference: str, method: str = "paypal"
    ) -> httpx.Response:
        return self.client.post(
            f"/v1/admin/accounts/{customer.account_id}/topups",
            json={"net": net, "method": method, "reference": reference, "package": "SMS package"},
            headers=self.admin,
        )

    def send_single(
        self, customer: Customer | None = None, to: str = "+4915112345678", credit: int = 10_000
    ) -> tuple[Customer, dict[str, Any]]:
        """``POST /v1/messages`` of one short text (to a new customer with ``credit`` unless one
        is given); the customer and the 201's body."""
        if customer is None:
            customer = self.register()
            topped = self.topup(customer, credit, f"single-{secrets.token_hex(4)}")
            assert topped.status_code == 201, topped.text
        response = self.client.post(
            "/v1/messages",
            json={"to": [to], "text": "Ihr Code: 4711", "sender": "Kontor"},
            headers=customer.headers,
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return customer, body

    def balance(self, customer: Customer, **params: str) -> dict[str, Any]:
        self.catch_up()
        response = self.client.get("/v1/account/balance", headers=customer.headers, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def trial_balance(self, **params: str) -> dict[str, Any]:
        self.catch_up()
        response = self.client.get("/v1/finance/trial-balance", headers=self.finance, params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@contextmanager
def running_api(settings: Settings, clock: Clock | None = None) -> Iterator[ApiHarness]:
    clock = clock or Clock()
    app = create_app(settings, clock=clock)
    backend = open_backend(settings, pool_size=2)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield ApiHarness(client, settings, clock, backend)
    finally:
        backend.close()
