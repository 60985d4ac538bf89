"""Liveness and readiness: ``/health``: the process runs; ``/ready``: its backends answer, and
how the read side and the workers are.

``/ready`` answers 503 only when this process cannot serve: PostgreSQL or NATS JetStream does
not answer (``components`` names which). Otherwise it answers 200, with ``status`` ``ready``,
or ``degraded`` when ``problems`` lists something an operator must look at: a projection held at
an event it cannot apply (named with its notification id and error), a worker that has not
reported, is starting, stale or stopped. A degraded API still serves every request (a load
balancer must keep it; ``kontor up`` starts the workers once it answers 200), and its read
models may lag. ``projections`` lists every follower with its position and its log's head
(``behind`` names those with events still to apply), ``workers`` every worker process.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Controller, Request, Response, get

from api.errors import problem_response
from api.read_side import ReadSide, read_side

if TYPE_CHECKING:
    from api.app import Resources


class ComponentStatus(msgspec.Struct):
    name: str
    ok: bool
    detail: str | None = None


class FailureReport(msgspec.Struct):
    notification_id: int
    topic: str
    originator_id: str | None
    originator_version: int | None
    error: str
    attempts: int
    first_seen: datetime
    last_seen: datetime
    next_attempt_at: datetime


class FollowerReport(msgspec.Struct):
    name: str
    application: str
    position: int
    head: int
    behind: int
    state: str
    failing: FailureReport | None = None


class WorkerReport(msgspec.Struct):
    name: str
    host: str
    worker: str | None
    pid: int | None
    state: str
    silent_for: float | None
    ready_at: datetime | None


class Readiness(msgspec.Struct):
    status: str
    components: list[ComponentStatus]
    problems: list[str] = msgspec.field(default_factory=list)
    behind: list[str] = msgspec.field(default_factory=list)
    projections: list[FollowerReport] = msgspec.field(default_factory=list)
    workers: list[WorkerReport] = msgspec.field(default_factory=list)


def readiness(components: list[ComponentStatus], state: ReadSide) -> Readiness:
    problems = state.problems
    return Readiness(
        status="degraded" if problems else "ready",
        components=components,
        problems=problems,
        behind=state.behind,
        projections=[
            FollowerReport(
                f.name,
                f.application,
                f.position,
                f.head,
                f.behind,
                f.state,
                None
                if f.failure is None
                else FailureReport(
                    f.failure.notification_id,
                    f.failure.topic,
                    str(f.failure.originator_id) if f.failure.originator_id else None,
                    f.failure.originator_version,
                    f.failure.error,
                    f.failure.attempts,
                    f.failure.first_seen,
                    f.failure.last_seen,
                    f.failure.next_attempt_at,
                ),
            )
            for f in state.followers
        ],
        workers=[
            WorkerReport(w.name, w.host, w.worker, w.pid, w.state, w.silent_for, w.ready_at)
            for w in state.workers
        ],
    )


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


async def _read_side(resources: Resources) -> ReadSide:
    if resources.read_pool is None:
        return ReadSide()
    timeout = resources.settings.ready_timeout
    try:
        async with asyncio.timeout(timeout + 1):
            return await asyncio.to_thread(read_side, resources.read_pool, timeout)
    except TimeoutError:
        return ReadSide(unreadable=f"no answer within {timeout} s")


class HealthController(Controller):
    tags = ["operations"]  # noqa: RUF012 - Litestar declares it as an instance attribute

    @get("/health", summary="The API process is up")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/ready",
        summary="PostgreSQL and NATS JetStream answer (else 503); the read side and workers",
        description=__doc__,
    )
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
        return Response(readiness(components, await _read_side(resources)))
