"""Liveness and readiness: ``/health``: the process runs; ``/ready``: its backends answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Controller, Request, Response, get

from api.errors import problem_response

if TYPE_CHECKING:
    from api.app import Resources


class ComponentStatus(msgspec.Struct):
    name: str
    ok: bool
    detail: str | None = None


class Readiness(msgspec.Struct):
    status: str
    components: list[ComponentStatus]


async def _check_postgres(resources: Resources) -> ComponentStatus:
    timeout = resources.settings.ready_timeout
    try:
        async with asyncio.timeout(timeout):
            async with resources.pg_pool.connection(timeout=timeout) as conn:
                await conn.execute("SELECT 1")
        return ComponentStatus("postgresql", True)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return ComponentStatus("postgresql", False, type(exc).__name__ + ": " + str(exc)[:200])


async def _check_nats(resources: Resources) -> ComponentStatus:
    try:
        async with asyncio.timeout(resources.settings.ready_timeout):
            await resources.nats.jetstream.account_info()
        return ComponentStatus("nats-jetstream", True)
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return ComponentStatus("nats-jetstream", False, type(exc).__name__ + ": " + str(exc)[:200])


class HealthController(Controller):
    tags = ["operations"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/health", summary="The API process is up")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", summary="PostgreSQL and NATS JetStream both answer")
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Any]:
        resources: Resources = request.app.state.resources
        components = list(await asyncio.gather(_check_postgres(resources), _check_nats(resources)))
        failing = [c.name for c in components if not c.ok]
        if failing:
            return problem_response(
                request,
                status=503,
                slug="not-ready",
                title="Not ready",
                detail="not answering: " + ", ".join(failing),
                components=[msgspec.structs.asdict(c) for c in components],
            )
        return Response(Readiness(status="ready", components=components))
