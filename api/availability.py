"""The database going away, as requests see it: a 503 problem with ``Retry-After``, at once.

The first request to meet an outage finds out within a few seconds (the API's database access
gives up quickly, see ``adapters.postgres.eventstore.FailFastRecorder``); from then on the gate
is shut for ``RETRY_AFTER`` seconds and every request that needs the database is answered 503
without trying, so that clients back off and no thread waits on a dead connection. After that
the next requests try again: the first success opens the gate, a failure shuts it again. The
pools replace their broken connections by themselves once the server is back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import msgspec
import psycopg
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from adapters.postgres.eventstore import DATABASE_ERRORS

PROBLEM_JSON = b"application/problem+json"

RETRY_AFTER = 5.0
"""Seconds a client is asked to wait, and the gate stays shut, after a database failure."""
UNGATED = ("/health", "/ready", "/metrics", "/schema", "/static/")
"""Paths that answer without the database (or say themselves that it is away)."""


class DatabaseGate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.shut_until = 0.0

    def retry_after(self) -> int:
        """Whole seconds until the gate opens again (0: open)."""
        return max(0, math.ceil(self.shut_until - self.clock()))

    def failed(self) -> int:
        """A request met the outage: shut the gate; the Retry-After to answer with."""
        self.shut_until = self.clock() + RETRY_AFTER
        return math.ceil(RETRY_AFTER)


def is_database_error(exc: BaseException) -> bool:
    """The database is away, not the request's data at fault: a value PostgreSQL refuses (a NUL
    in a text, a number out of a column's range) must never shut the gate for everyone."""
    if isinstance(exc, psycopg.DataError | psycopg.IntegrityError | psycopg.ProgrammingError):
        return False
    return isinstance(exc, DATABASE_ERRORS)


class DatabaseGateMiddleware(ASGIMiddleware):
    """Answers 503 while the gate is shut (the error mapper shuts it)."""

    scopes = (ScopeType.HTTP,)

    @staticmethod
    def should_bypass_for_scope(scope: Scope) -> bool:
        return str(scope["path"]).startswith(UNGATED)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        gate: DatabaseGate = scope["litestar_app"].state.database_gate
        wait = gate.retry_after()
        if wait:
            await _unavailable(send, scope, wait)
            return
        await next_app(scope, receive, send)


def unavailable_problem(path: str, wait: int) -> dict[str, Any]:
    return {
        "type": "https://kontor.dev/problems/database-unavailable",
        "title": "The database is not available",
        "status": 503,
        "detail": f"try again in {wait} s",
        "instance": path,
    }


async def _unavailable(send: Send, scope: Scope, wait: int) -> None:
    body = msgspec.json.encode(unavailable_problem(scope["path"], wait))
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", PROBLEM_JSON),
        (b"retry-after", str(wait).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": headers,
    }
    done: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(done)
