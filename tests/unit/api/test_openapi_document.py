"""The OpenAPI document tells the truth: errors as problem documents, unknown fields refused,
Swagger UI served by the API itself."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from settings import Settings

OPERATIONS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(replace(Settings(), database_url="postgresql://db/k", nats_url="nats://n"))


@pytest.fixture(scope="module")
def document(app: Litestar) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, item[method])
        for path, item in document["paths"].items()
        for method in OPERATIONS
        if method in item
    ]


def test_every_error_an_operation_can_answer_is_a_problem_document(
    document: dict[str, Any],
) -> None:
    for method, path, operation in operations(document):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        assert "500" in errors, (method, path)
        for code, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (path, code)
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}
        if path.startswith("/v1/") and operation.get("security") != []:
            assert {"401", "403", "404", "503"} <= set(errors), (method, path)
        if operation.get("parameters") or "requestBody" in operation:
            assert "422" in errors, (method, path)
        if "requestBody" in operation:
            assert "400" in errors, (method, path)
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status"}


def test_operations_without_a_key_do_not_claim_to_need_one(document: dict[str, Any]) -> None:
    registration = document["paths"]["/v1/accounts"]["post"]
    assert registration["security"] == []
    assert "401" not in registration["responses"]
    assert document["paths"]["/health"]["get"]["security"] == []
    sign_in = document["paths"]["/v1/sessions"]["post"]
    assert sign_in["security"] == []
    assert {"401", "429"} <= set(sign_in["responses"])  # refused, throttled
    assert "security" not in document["paths"]["/v1/sessions"]["get"]
    assert "security" not in document["paths"]["/v1/account"]["get"]  # the default: a key


def test_request_shapes_that_refuse_unknown_fields_say_so(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("ListCreate", "TopupCreate", "GoodwillCreate", "MessageCreate", "CampaignCreate",
                 "RegistrationCreate", "PreviewRequest", "AccountAdminUpdate"):  # fmt: skip
        assert schemas[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in schemas["ListRead"]  # answers may grow


def test_repeatable_creations_and_csv_answers_are_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert {"200", "201"} <= set(paths["/v1/messages"]["post"]["responses"])
    assert {"200", "202"} <= set(paths["/v1/campaigns"]["post"]["responses"])
    for kind in ("topups", "adjustments"):  # a payment reference or goodwill reference again
        operation = paths[f"/v1/admin/accounts/{{account_id}}/{kind}"]["post"]
        assert {"200", "201"} <= set(operation["responses"]), kind
    statement = paths["/v1/account/statement"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv; charset=utf-8"} <= set(statement)


def test_text_patterns_use_the_documents_regex_dialect(document: dict[str, Any]) -> None:
    name = document["components"]["schemas"]["ListCreate"]["properties"]["name"]
    assert "\\ud800" not in name["pattern"]
    assert "\\u0000" in name["pattern"]


def test_swagger_ui_loads_nothing_from_a_cdn(app: Litestar) -> None:
    client = TestClient(app)  # no lifespan: the docs need neither database nor NATS
    page = client.get("/schema/swagger")
    assert page.status_code == 200
    assert "cdn" not in page.text
    assert "https://" not in page.text
    script = client.get("/static/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 200
