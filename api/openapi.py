"""The OpenAPI document tells the truth about errors and unknown fields.

Litestar documents one ``400`` as ``application/json`` with its own exception shape, which is
not what the API answers. Every error leaves through ``api.errors`` as an RFC 9457 problem
document (``application/problem+json``), so this module lists on every operation the error
statuses the edge can give it, each with the ``Problem`` schema:

- every operation: 500 (an incident), 503 (the database is away) where it needs the database;
- operations that take a key: 401 (no or a bad key), 403 (a key of another role, or the
  account is not active);
- operations with parameters or a body: 422 (a value the schema refuses, or a domain rule);
- JSON bodies: 400 (not JSON);
- operations under ``/v1``: 404 (an id nobody, or not the caller, has), and on changes 409 (a
  state that does not allow it); sends and money moves 402 (credit or a send limit);
- uploads and recipient additions 413 and 415, registration 429.

Request structs that refuse unknown fields (``forbid_unknown_fields``) say so with
``additionalProperties: false``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
)
from litestar.routes import HTTPRoute

from api.errors import PROBLEM_JSON

CSV = "text/csv; charset=utf-8"

SCHEMA_MODULES = (
    "api.schemas.accounts",
    "api.schemas.admin",
    "api.schemas.contacts",
    "api.schemas.messages",
    "api.preview",
)
"""Modules whose request structs the document describes."""

UNGATED = ("/health", "/ready", "/schema")

REPEATABLE = {
    ("post", "/v1/messages"),
    ("post", "/v1/campaigns"),
    ("post", "/v1/opt-outs"),
    ("post", "/v1/admin/accounts/{account_id}/topups"),
    ("post", "/v1/admin/accounts/{account_id}/adjustments"),
}
"""Idempotent creations: a repeat (same Idempotency-Key, payment reference or number) answers
200 with the same body instead of 201 or 202."""

TITLES = {
    400: "The body is not JSON (malformed-body)",
    401: "No API key or session, not a valid one, or a refused sign-in",
    402: "Not enough credit, or a send limit reached",
    403: "The key's role or the account's state does not allow it",
    404: "Nothing with this id is visible to the caller",
    409: "The resource's state does not allow it",
    413: "Too large",
    415: "Not a media type this takes (CSV or TXT uploads; JSON for sign-in and links)",
    422: "A value is not valid (the problem names it)",
    429: "Too many requests; try again after Retry-After",
    500: "An unexpected error (logged under the incident id)",
    503: "The database is not available; try again after Retry-After",
}

PROBLEM_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    title="Problem",
    description="An RFC 9457 problem details document; members beyond these name specifics.",
    properties={
        "type": Schema(type=OpenAPIType.STRING, format=None),
        "title": Schema(type=OpenAPIType.STRING),
        "status": Schema(type=OpenAPIType.INTEGER),
        "detail": Schema(type=OpenAPIType.STRING),
        "instance": Schema(type=OpenAPIType.STRING),
    },
    required=["type", "title", "status"],
)


PUBLIC_JSON_ONLY = frozenset(
    {
        "/v1/sessions",
        "/v1/password-resets",
        "/v1/password-resets/complete",
        "/v1/invitations/accept",
    }
)
"""Open operations that take JSON only (``api.sessions.require_json``)."""


PEOPLE_STATUSES: dict[tuple[str, str], set[int]] = {
    ("post", "/v1/accounts"): {429},
    ("post", "/v1/sessions"): {401, 415, 429},  # refused, not JSON, too many
    ("post", "/v1/password-resets"): {415},
    ("post", "/v1/password-resets/complete"): {400, 415},  # a link used, expired or mistyped
    ("post", "/v1/invitations/accept"): {400, 415},
    ("post", "/v1/account/users/invitations"): {429},
}
"""What registration, sign-in, links and invitations answer besides the usual."""


def statuses(path: str, method: str, operation: Operation, *, public: bool) -> set[int]:
    """The error statuses the edge can answer for this operation."""
    found = {500}
    if path.startswith(UNGATED):
        return found
    found.add(503)
    if not public:
        found |= {401, 403}
    if operation.parameters or operation.request_body:
        found.add(422)
    if operation.request_body is not None or operation.parameters:
        found.add(400)  # a body that is not JSON (or form data), a query that is not UTF-8
    if path.startswith("/v1/"):
        found.add(404)
        if method != "get":
            found.add(409)
    if method == "post" and path.startswith(("/v1/messages", "/v1/campaigns", "/v1/admin")):
        found.add(402)
    if (
        method == "post"
        and path.startswith("/v1/lists/")
        and path.endswith(("/imports", "/recipients"))
    ):
        found |= {413, 415}
    return found | PEOPLE_STATUSES.get((method, path), set())


def forbidding_structs() -> set[str]:
    """Names of the request structs that refuse unknown fields."""
    names: set[str] = set()
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__struct_config__.forbid_unknown_fields
            ):
                names.add(value.__name__)
    return names


def tell_the_truth(
    document: OpenAPI, public: list[str], open_operations: set[tuple[str, str]]
) -> None:
    """Rewrite ``document`` in place (see the module docstring). ``public`` are the path
    patterns the key middleware leaves alone, ``open_operations`` the (method, path) of handlers
    that opt out of it (registration): neither needs a key, so neither lists 401 or 403 nor
    claims the document's default security."""
    components = document.components
    schemas = components.schemas if components.schemas is not None else {}
    schemas["Problem"] = PROBLEM_SCHEMA
    components.schemas = schemas
    for name in forbidding_structs():
        schema = schemas.get(name)
        if isinstance(schema, Schema):
            schema.additional_properties = False
    problem = Reference(ref="#/components/schemas/Problem")
    for path, item in (document.paths or {}).items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            # Litestar's own error entries (a 400 as application/json) are not what we answer.
            responses: dict[str, Any] = {
                code: response
                for code, response in (operation.responses or {}).items()
                if int(code) < 400
            }
            _document_success(path, method, operation, responses)
            is_public = (method, path) in open_operations or any(
                _matches(pattern, path) for pattern in public
            )
            if is_public:
                operation.security = []
            for status in sorted(statuses(path, method, operation, public=is_public)):
                responses[str(status)] = OpenAPIResponse(
                    description=TITLES[status],
                    content={PROBLEM_JSON: OpenAPIMediaType(schema=problem)},
                )
            operation.responses = responses


def _document_success(
    path: str, method: str, operation: Operation, responses: dict[str, Any]
) -> None:
    """The success answers Litestar cannot see: 200 for a repeated creation, and CSV where
    ``format=csv`` is offered."""
    created = next((responses[code] for code in ("201", "202") if code in responses), None)
    if (method, path) in REPEATABLE and created is not None and "200" not in responses:
        responses["200"] = OpenAPIResponse(
            description="A repeat of an earlier request: the same answer", content=created.content
        )
    takes_format = any(getattr(p, "name", None) == "format" for p in operation.parameters or [])
    ok = responses.get("200")
    if takes_format and isinstance(ok, OpenAPIResponse) and ok.content is not None:
        ok.content[CSV] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))


def _matches(pattern: str, path: str) -> bool:
    return re.search(pattern, path) is not None


def document(app: Litestar, public: list[str]) -> None:
    """Make ``app``'s OpenAPI document (built once, then served) tell the truth."""
    open_operations = {
        (method.lower(), _PATH_TYPE.sub(r"{\1}", route.path))
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.opt.get("exclude_from_auth")
        for method in handler.http_methods
    }
    tell_the_truth(app.openapi_schema, public, open_operations)


_PATH_TYPE = re.compile(r"\{(\w+):\w+\}")
