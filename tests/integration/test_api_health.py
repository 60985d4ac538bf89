from __future__ import annotations

import httpx
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from settings import Settings


async def test_ready_names_postgresql_and_nats_when_both_answer(
    settings_for_tests: Settings,
) -> None:
    async with AsyncTestClient(create_app(settings_for_tests)) as client:
        health = await client.get("/health")
        ready = await client.get("/ready")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert body["problems"] == []
    assert {c["name"]: c["ok"] for c in body["components"]} == {
        "postgresql": True,
        "nats-jetstream": True,
    }


async def test_metrics_are_served_on_their_own_loopback_listener_and_not_on_the_api_port(
    settings_for_tests: Settings,
) -> None:
    async with AsyncTestClient(create_app(settings_for_tests)) as client:
        await client.get("/health")
        on_api_port = await client.get("/metrics")
        schema = await client.get("/schema/openapi.json")
        listener = client.app.state.metrics
        assert listener.url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient() as scraper:
            metrics = await scraper.get(listener.url, timeout=5)
    assert on_api_port.status_code == 404
    assert metrics.status_code == 200
    assert "kontor_requests_total" in metrics.text
    assert "kontor_read_side_up 1.0" in metrics.text
    assert schema.status_code == 200
    assert "/ready" in schema.json()["paths"]
    assert "/metrics" not in schema.json()["paths"]


async def test_the_metrics_listener_closes_with_the_app(settings_for_tests: Settings) -> None:
    async with AsyncTestClient(create_app(settings_for_tests)) as client:
        url = client.app.state.metrics.url
    async with httpx.AsyncClient() as scraper:
        with pytest.raises(httpx.ConnectError):
            await scraper.get(url, timeout=2)
