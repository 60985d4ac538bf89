"""The API's route table as (method, path) pairs with example path values, for tests that
must hold on every endpoint."""

from __future__ import annotations

import re
from typing import Any
from uuid import uuid4

from litestar.enums import RequestEncodingType
from litestar.routes import HTTPRoute

from kontor.samples import SAMPLE_PASSWORD
from tests.support.api import ApiHarness, Customer

_PARAM = re.compile(r"\{(\w+):(\w+)\}")


def concrete(path: str) -> str:
    """``/v1/lists/{list_id:uuid}`` -> ``/v1/lists/<a random uuid>``."""
    return _PARAM.sub(lambda m: str(uuid4()) if m.group(2) == "uuid" else "1", path)


def operations(app: Any) -> list[tuple[str, str, bool]]:
    """Every (method, path template, takes a JSON body) the API answers (not OPTIONS, HEAD)."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            media = getattr(data.kwarg_definition, "media_type", None) if data else None
            json_body = data is not None and media in (None, RequestEncodingType.JSON)
            for method in handler.http_methods:
                if method not in ("OPTIONS", "HEAD"):
                    found.add((method, route.path, json_body))
    return sorted(found)


USERS_ONLY = ("/v1/account/me/", "/v1/sessions")
"""Paths for signed-in users (not keys): reached with the customer's session cookie."""
_SESSIONS: dict[tuple[int, str], dict[str, str]] = {}


def headers_for(api: ApiHarness, customer: Customer, path: str) -> dict[str, str]:
    """The key an endpoint takes: the admin's, finance's or the customer's; for a signed-in
    user's path, the CSRF header of the customer's session (its cookie is in the client)."""
    if path.startswith(USERS_ONLY):
        known = _SESSIONS.get((id(api), customer.username))
        if known is None or api.client.get("/v1/sessions").status_code != 200:
            signed_in = api.client.post(
                "/v1/sessions", json={"login": customer.username, "password": SAMPLE_PASSWORD}
            )
            assert signed_in.status_code == 201, signed_in.text
            known = {"X-CSRF-Token": signed_in.json()["csrf_token"]}
            _SESSIONS[(id(api), customer.username)] = known
        return known
    if path.startswith("/v1/admin"):
        return api.admin
    if path.startswith("/v1/finance"):
        return api.finance
    return customer.headers
