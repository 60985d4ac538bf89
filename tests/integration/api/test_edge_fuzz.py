"""Every field of every endpoint, from the route table's own OpenAPI document, gets a NUL, a
lone surrogate, a string over its maximum length and numbers out of range: each answer is a 4xx
problem document, never a 500 (issue 15)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import uuid4

from tests.integration.api.edge_routes import headers_for
from tests.support.api import ApiHarness

PROBLEM = "application/problem+json"
BAD_INTEGERS = (2**63, 10**30, -(2**63))
Body = dict[str, Any]


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def variants(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object shapes a body schema allows (each branch of a oneOf)."""
    schema = resolve(document, schema)
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        return [v for branch in branches for v in variants(document, branch)]
    return [schema]


def example(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A plausible value of ``schema`` (not always one the rules accept: any 4xx will do)."""
    schema = resolve(document, schema)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            usable = [s for s in schema[key] if resolve(document, s).get("type") != "null"]
            return example(document, (usable or schema[key])[0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {
            name: example(document, prop)
            for name, prop in schema.get("properties", {}).items()
            if name in schema.get("required", [])
        }
    if kind == "array":
        return []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "boolean":
        return False
    if kind == "string":
        if schema.get("format") == "uuid":
            return str(uuid4())
        if schema.get("format") == "date-time":
            return "2026-03-02T10:00:00Z"
        if schema.get("format") == "date":
            return "2026-03-02"
        return "a" * max(int(schema.get("minLength", 0)), 3)
    return None


def string_attacks(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, raw JSON of the value): NUL, another control, a lone surrogate, over-long."""
    yield "NUL", json.dumps("a\x00b")
    yield "ESC", json.dumps("a\x1bb")
    yield "lone surrogate", '"a\\ud800b"'
    if "maxLength" in schema:
        yield "over-long", json.dumps("x" * (int(schema["maxLength"]) + 1))


def kinds_of(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type")
    kinds = {kind} if isinstance(kind, str) else set(kind or [])
    for branch in schema.get("anyOf", []) + schema.get("oneOf", []):
        kinds |= kinds_of(document, resolve(document, branch))
    return kinds


def bad_values(document: dict[str, Any], schema: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, raw JSON) of the bad values for a field of this schema."""
    kinds = kinds_of(document, schema)
    found: list[tuple[str, str]] = []
    if "string" in kinds:
        found += list(string_attacks(schema))
    if "integer" in kinds:
        found += [(str(n), str(n)) for n in BAD_INTEGERS]
    if "array" in kinds:
        items = resolve(document, schema.get("items", {}))
        found += [(f"[{label}]", f"[{raw}]") for label, raw in bad_values(document, items)]
    if "object" in kinds and schema.get("additionalProperties"):
        found += [("NUL key", '{"a\\u0000": "x"}'), ("NUL value", '{"a": "\\u0000"}')]
    return found


def attacks(document: dict[str, Any], body_schema: dict[str, Any]) -> Iterator[tuple[str, bytes]]:
    """Bodies with one field replaced by a bad value, for every field of every variant."""
    marker = "__ATTACK__"
    for variant in variants(document, body_schema):
        base = example(document, variant)
        for name, prop in variant.get("properties", {}).items():
            for label, raw in bad_values(document, resolve(document, prop)):
                body = json.dumps(base | {name: marker})
                yield f"{name}={label}", body.replace(json.dumps(marker), raw).encode()


def path_for(template: str, bad_int: int | None = None) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: (
            str(bad_int if bad_int is not None else 1)
            if m.group(1) == "recipient_id"
            else str(uuid4())
        ),
        template,
    )


def assert_problem(response: Any, what: str) -> None:
    assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:300])
    assert response.headers["content-type"] == PROBLEM, (what, response.headers)
    assert "Traceback" not in response.text


def types_of(schema: dict[str, Any]) -> set[str | None]:
    """A schema's ``type``: one name, or (OpenAPI 3.1) a list of them."""
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind}


def test_every_field_of_every_endpoint_refuses_what_the_stores_cannot_hold(
    api: ApiHarness,
) -> None:
    customer = api.register()
    document = api.client.get("/schema/openapi.json").json()
    checked = 0
    for path, item in document["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = item.get(method)
            if operation is None or path.startswith(("/schema", "/static")):
                continue
            headers = headers_for(api, customer, path)
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                for label, body in attacks(document, schema):
                    response = api.client.request(
                        method,
                        path_for(path),
                        content=body,
                        headers=headers | {"content-type": "application/json"},
                    )
                    assert_problem(response, f"{method} {path} {label}")
                    checked += 1
            for parameter in operation.get("parameters", []):
                schema = resolve(document, parameter.get("schema", {}))
                kinds = types_of(schema) | {
                    t for b in schema.get("oneOf", []) for t in types_of(resolve(document, b))
                }
                if parameter["in"] == "path":
                    if "integer" in kinds:
                        for n in BAD_INTEGERS:
                            response = api.client.request(
                                method, path_for(path, n), headers=headers
                            )
                            assert_problem(response, f"{method} {path} path={n}")
                            checked += 1
                    continue
                if parameter["in"] != "query":
                    continue
                values: list[str] = []
                if "string" in kinds:
                    values += ["a\x00b", "a\x1bb", "\udcff", "x" * 10_001]
                if "integer" in kinds:
                    values += [str(n) for n in BAD_INTEGERS]
                for value in values:
                    # percent-encoded by hand: a lone surrogate as its (invalid) UTF-8 bytes
                    query = quote(value.encode("utf-8", "surrogatepass"), safe="")
                    response = api.client.request(
                        method, f"{path_for(path)}?{parameter['name']}={query}", headers=headers
                    )
                    assert_problem(response, f"{method} {path} {parameter['name']}={value[:8]!r}")
                    checked += 1
    assert checked > 300
