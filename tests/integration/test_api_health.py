from __future__ import annotations

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
    assert {c["name"]: c["ok"] for c in body["components"]} == {
        "postgresql": True,
        "nats-jetstream": True,
    }


async def test_metrics_and_openapi_are_served(settings_for_tests: Settings) -> None:
    async with AsyncTestClient(create_app(settings_for_tests)) as client:
        await client.get("/health")
        metrics = await client.get("/metrics")
        schema = await client.get("/schema/openapi.json")
    assert metrics.status_code == 200
    assert "kontor_requests_total" in metrics.text
    assert schema.status_code == 200
    assert "/ready" in schema.json()["paths"]
