"""The Litestar application factory: ``create_app(settings)`` and its lifespan.

Nothing connects at import time. The lifespan opens the PostgreSQL pools, the event-sourced
applications and the NATS connection; none has to be up for the process to start (``/ready``
tells whether they are).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from prometheus_client import REGISTRY
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from adapters.backend import open_backend
from adapters.crypto import apikeys
from adapters.gcpolicy import settle
from adapters.jetstream.connection import NatsConnection
from adapters.pricelist import default_sms_rate, load_preview_rules
from api.accounts import AccountController, RegistrationController
from api.admin import AdminAccountsController
from api.auth import ApiKeyMiddleware, Authenticator, anyone_reads
from api.availability import DatabaseGate, DatabaseGateMiddleware
from api.callbacks import CallbackController
from api.context import ApiContext, Clock, SmsRate
from api.errors import EXCEPTION_HANDLERS
from api.finance import FinanceController
from api.health import HealthController
from api.imports import ImportController, ListImportController
from api.inbound_numbers import AccountInboundNumbersController, AdminInboundNumbersController
from api.lists import ListController
from api.messages import CampaignsController, MessagesController
from api.metrics import MetricsListener, ReadSideCollector
from api.openapi import document
from api.optouts import OptOutController
from api.preview import PreviewController, preview_dependencies
from api.privacy import PrivacyController
from api.query import check_query
from api.recipients import RecipientController
from api.replies import ReplyController
from api.requests import KontorRequest
from api.send_admin import AdminSendsController
from api.sessions import PasswordResetController, SessionController
from api.two_factor import TwoFactorController, TwoFactorPolicyController
from api.users import (
    AccountHistoryController,
    InvitationController,
    StaffAccountController,
    UsersController,
)
from api.web import TEMPLATES, WEB, WEB_PATHS
from api.wiring import make_context, pricing_context
from projections.setup import setup_read_models
from settings import Settings

SWAGGER_ASSETS = "/static/swagger-ui"
"""Where the API serves Swagger UI's scripts and styles, from the ``swagger-ui-bundle-v2``
package (never a CDN: the docs work offline and load nothing from a third party)."""
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/metrics", "^/schema", f"^{SWAGGER_ASSETS}/", *WEB_PATHS]
"""Answered without a key. ``/metrics`` is among them so that anyone asking the public port
gets the plain 404 (the metrics are served on ``KONTOR_METRICS_PORT``, see ``api.metrics``).
The application's pages find their signed-in user themselves (``api.web``)."""


@dataclass
class Resources:
    """What the lifespan opens, shared by every request handler through ``app.state``."""

    settings: Settings
    pg_pool: AsyncConnectionPool[Any]
    nats: NatsConnection
    read_pool: ConnectionPool[Any] | None = None
    """The synchronous pool ``/ready`` reads the read side's state with."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _cors(settings: Settings) -> CORSConfig | None:
    """The CORS policy of ``KONTOR_CORS_ORIGINS`` (None, no policy, when it is empty)."""
    origins = settings.cors_origin_list
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Api-Key"],
        expose_headers=["Retry-After", "Location"],
        max_age=600,
    )


def create_app(
    settings: Settings, *, clock: Clock | None = None, sms_rate: SmsRate | None = None
) -> Litestar:
    if settings.database_url is None or settings.nats_url is None:
        raise ValueError(
            "create_app needs KONTOR_DATABASE_URL and KONTOR_NATS_URL (kontor up sets both)"
        )
    database_url, nats_url = settings.database_url, settings.nats_url
    rate_of_sms = sms_rate or default_sms_rate()
    rules = load_preview_rules()

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
        backend = await asyncio.to_thread(
            open_backend, settings, pool_size=settings.db_pool_size, fail_fast=True
        )
        if backend.pool is not None:
            await asyncio.to_thread(setup_read_models, backend.pool)
        authenticator = Authenticator(
            pepper=backend.pepper,
            load_key=backend.accounts.api_key,
            admin_key=apikeys.configured(
                backend.pepper, settings.admin_api_key_hash, settings.admin_api_key
            ),
            finance_key=apikeys.configured(
                backend.pepper, settings.finance_api_key_hash, settings.finance_api_key
            ),
        )
        app.state.resources = Resources(
            settings=settings, pg_pool=pool, nats=nats, read_pool=backend.pool
        )
        app.state.database_gate = DatabaseGate()
        app.state.authenticator = authenticator
        app.state.ctx = await asyncio.to_thread(
            make_context,
            settings,
            backend,
            authenticator,
            rules,
            clock=clock or _utc_now,
            sms_rate=rate_of_sms,
        )
        metrics = MetricsListener(settings.metrics_host, settings.metrics_port)
        collector: ReadSideCollector | None = None
        if backend.pool is not None:
            collector = ReadSideCollector(backend.pool, settings.ready_timeout)
            REGISTRY.register(collector)
        app.state.metrics = metrics
        # Everything built so far (the app, its routes and schema, price lists, number rules)
        # lives as long as the process: keep it out of the garbage collector's full passes,
        # which otherwise show up as periodic multi-millisecond stalls of every request.
        settle()
        try:
            yield
        finally:
            if collector is not None:
                REGISTRY.unregister(collector)
            metrics.close()
            await nats.close()
            await pool.close()
            await asyncio.to_thread(app.state.ctx.acceptance.close)
            await asyncio.to_thread(backend.close)

    def provide_ctx(request: Request[Any, Any, Any]) -> ApiContext:
        ctx: ApiContext = request.app.state.ctx
        return ctx

    prometheus = PrometheusConfig(app_name="kontor", prefix="kontor", group_path=True)
    app = Litestar(
        route_handlers=[
            HealthController,
            RegistrationController,
            SessionController,
            PasswordResetController,
            UsersController,
            InvitationController,
            AccountHistoryController,
            StaffAccountController,
            TwoFactorController,
            TwoFactorPolicyController,
            AccountController,
            AdminAccountsController,
            FinanceController,
            MessagesController,
            CampaignsController,
            AdminSendsController,
            # A preview changes nothing: any role may ask (guarded here, so that the
            # preview's own tests can mount the controller without authentication).
            Router("/", route_handlers=[PreviewController], guards=[anyone_reads]),
            ListController,
            RecipientController,
            ListImportController,
            ImportController,
            OptOutController,
            ReplyController,
            CallbackController,
            AdminInboundNumbersController,
            AccountInboundNumbersController,
            PrivacyController,
            create_static_files_router(
                path=SWAGGER_ASSETS, directories=[swagger_ui_path], include_in_schema=False
            ),
            WEB,
        ],
        template_config=TEMPLATES,
        dependencies={
            "ctx": Provide(provide_ctx, sync_to_thread=False),
            **preview_dependencies(rules, pricing_context, clock or _utc_now),
        },
        lifespan=[lifespan],
        middleware=[
            DatabaseGateMiddleware(),
            prometheus.middleware,
            DefineMiddleware(ApiKeyMiddleware, exclude=PUBLIC_PATHS),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=_cors(settings),
        request_class=KontorRequest,
        before_request=check_query,
        openapi_config=OpenAPIConfig(
            title="Kontor API",
            version="1",
            path="/schema",
            render_plugins=[
                SwaggerRenderPlugin(
                    js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                    css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                    standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                    favicon=f"<link rel='icon' href='{SWAGGER_ASSETS}/favicon-32x32.png'>",
                )
            ],
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(type="http", scheme="bearer", description="kt_... key")
                }
            ),
            security=[{"apiKey": []}],
        ),
        debug=False,
        # The process configured logging already (kontor.logs: JSON lines); Litestar's default
        # LoggingConfig would replace the root handler with its plain-text format.
        logging_config=None,
    )
    _complete_allow_headers(app)
    document(app, PUBLIC_PATHS)
    return app


def _complete_allow_headers(app: Litestar) -> None:
    """Make the ``Allow`` of Litestar's own OPTIONS answers list every method of a path.

    Litestar (2.x) builds a path's OPTIONS handler when the path's first handlers are
    registered, as a closure over that first route object; handlers of the same path added
    later (``GET /`` and ``POST /`` of one controller) land on a merged route the closure never
    sees, so ``OPTIONS /v1/campaigns`` answered ``Allow: OPTIONS, POST``. Point each closure
    at the route that holds it.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler.fn, "func", handler.fn)
            code = getattr(fn, "__code__", None)
            closure = getattr(fn, "__closure__", None)
            if code is None or closure is None or fn.__name__ != "options_handler":
                continue
            if "self" in code.co_freevars:
                closure[code.co_freevars.index("self")].cell_contents = route
