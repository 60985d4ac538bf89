"""The Litestar application factory: ``create_app(settings)`` and its lifespan.

Nothing connects at import time. The lifespan opens the PostgreSQL pool and the NATS
connection; neither has to be up for the process to start (``/ready`` tells whether they are).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from psycopg_pool import AsyncConnectionPool

from adapters.natsconn import NatsConnection
from api.errors import EXCEPTION_HANDLERS
from api.health import HealthController
from kontor.settings import Settings


@dataclass
class Resources:
    """What the lifespan opens, shared by every request handler through ``app.state``."""

    settings: Settings
    pg_pool: AsyncConnectionPool[Any]
    nats: NatsConnection


def create_app(settings: Settings) -> Litestar:
    if settings.database_url is None or settings.nats_url is None:
        raise ValueError(
            "create_app needs KONTOR_DATABASE_URL and KONTOR_NATS_URL (kontor up sets both)"
        )
    database_url, nats_url = settings.database_url, settings.nats_url

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            database_url,
            min_size=1,
            max_size=settings.db_pool_size,
            open=False,
            check=AsyncConnectionPool.check_connection,
            kwargs={"connect_timeout": max(1, int(settings.ready_timeout))},
        )
        await pool.open(wait=False)
        nats = NatsConnection(nats_url, name="kontor-api")
        await nats.start()
        app.state.resources = Resources(settings=settings, pg_pool=pool, nats=nats)
        try:
            yield
        finally:
            await nats.close()
            await pool.close()

    prometheus = PrometheusConfig(app_name="kontor", prefix="kontor", group_path=True)
    return Litestar(
        route_handlers=[HealthController, PrometheusController],
        lifespan=[lifespan],
        middleware=[prometheus.middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="Kontor API",
            version="1",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        debug=False,
    )
