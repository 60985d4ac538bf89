"""The API edge refuses what the stores cannot hold and never answers 500 (issue 15)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest

from settings import Settings
from tests.integration.api.edge_routes import concrete, headers_for, operations
from tests.support.api import ApiHarness, Customer, running_api
from workers.projections import messaging_runner

PROBLEM = "application/problem+json"
ONE = "+4915112345678"


def problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"].endswith("/" + slug), body
    return body


def funded(api: ApiHarness) -> Customer:
    customer = api.register()
    assert api.topup(customer, 100_000, f"edge-{uuid4()}").status_code == 201
    return customer


def test_what_the_stores_cannot_hold_is_refused_and_the_projections_keep_going(
    api: ApiHarness,
) -> None:
    customer = funded(api)
    account = customer.account_id
    admin = api.admin
    cases = [
        ("/v1/campaigns", customer.headers, {"text": "Hi", "sender": "Kontor", "name": "a\x00b",
                                             "recipients": [{"number": ONE}]}),
        (f"/v1/admin/accounts/{account}/topups", admin,
         {"net": 2**63, "method": "paypal", "reference": "big-1"}),
        (f"/v1/admin/accounts/{account}/topups", admin,
         {"net": 10**30, "method": "paypal", "reference": "big-2"}),
        (f"/v1/admin/accounts/{account}/topups", admin,
         {"net": 5, "method": "paypal", "reference": "nul\x00"}),
        (f"/v1/admin/accounts/{account}/adjustments", admin,
         {"type": "goodwill", "amount": 2**63, "reason": "sorry"}),
        (f"/v1/admin/accounts/{account}/adjustments", admin,
         {"type": "goodwill", "amount": 5, "reason": "sorry\x00"}),
        ("/v1/lists", customer.headers, {"name": "a\x00b"}),
    ]  # fmt: skip
    for path, headers, body in cases:
        problem(api.client.post(path, json=body, headers=headers), 422, "validation")
    # Nothing of it reached the read side: the balance is exactly the trial credit plus the
    # one top-up, and a new list (a real row in PostgreSQL) is created as ever.
    assert api.balance(customer)["available"] == api.settings.trial_credit + 100_000
    created = api.client.post("/v1/lists", json={"name": "Kunden"}, headers=customer.headers)
    assert created.status_code == 201, created.text


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'{"name": "\xff\xfe"}', "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested"),
        (b'{"name": ', "JSON"),
    ],
)
def test_a_body_that_is_not_json_is_a_400_on_every_json_endpoint(
    api: ApiHarness, content: bytes, detail: str
) -> None:
    customer = api.register()
    for method, path, json_body in operations(api.client.app):
        if not json_body:
            continue
        response = api.client.request(
            method,
            concrete(path),
            content=content,
            headers=headers_for(api, customer, path) | {"content-type": "application/json"},
        )
        body = problem(response, 400, "malformed-body")
        assert detail in body["detail"], (method, path, body)


def test_a_text_over_1500_characters_has_its_own_problem_type(api: ApiHarness) -> None:
    customer = funded(api)
    send = {"to": [ONE], "text": "a" * 1_501, "sender": "Kontor"}
    body = problem(
        api.client.post("/v1/messages", json=send, headers=customer.headers), 422, "text-too-long"
    )
    assert (body["characters"], body["limit"]) == (1_501, 1_500)
    campaign = {"text": "a" * 1_501, "sender": "Kontor", "recipients": [{"number": ONE}]}
    problem(
        api.client.post("/v1/campaigns", json=campaign, headers=customer.headers),
        422,
        "text-too-long",
    )
    # A text refused for another reason (a control character) is not called too long.
    nul = {"to": [ONE], "text": "a\x00b", "sender": "Kontor"}
    problem(api.client.post("/v1/messages", json=nul, headers=customer.headers), 422, "validation")
    schema = api.client.get("/schema/openapi.json").json()
    assert schema["components"]["schemas"]["MessageCreate"]["properties"]["text"]["maxLength"] == (
        1_500
    )


@pytest.mark.parametrize(
    "query",
    [
        "state=purple",
        "limit=-1",
        "limit=0",
        "limit=1000001",
        "cursor=garbage",
        "from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z",
        "number=%00",
    ],
)
def test_every_list_endpoint_refuses_a_query_it_cannot_use(api: ApiHarness, query: str) -> None:
    customer = api.register()
    list_id = api.client.post("/v1/lists", json={"name": "L"}, headers=customer.headers).json()[
        "id"
    ]
    campaign = api.client.post(
        "/v1/campaigns",
        json={"text": "Hi", "sender": "Kontor", "recipients": [{"number": ONE}]},
        headers=customer.headers,
    )
    assert campaign.status_code == 202, campaign.text
    campaign_id = campaign.json()["campaign_id"]
    lists = {
        "/v1/messages": ("state", "limit", "cursor", "from", "number"),
        f"/v1/campaigns/{campaign_id}/messages": ("state", "limit", "cursor"),
        "/v1/campaigns": ("limit", "cursor"),
        "/v1/account/statement": ("limit", "cursor"),
        "/v1/finance/journal": ("limit", "cursor", "from"),
        "/v1/lists": ("limit", "cursor"),
        f"/v1/lists/{list_id}/recipients": ("limit", "cursor", "number"),
        "/v1/opt-outs": ("limit", "cursor", "number"),
        "/v1/admin/receipts/unmatched": ("limit", "cursor", "from", "number"),
    }
    name = query.split("=", maxsplit=1)[0]
    for path, names in lists.items():
        if name not in names:
            continue
        response = api.client.get(f"{path}?{query}", headers=headers_for(api, customer, path))
        assert response.status_code == 422, (path, query, response.text)
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "path", ["/v1/account/statement", "/v1/finance/journal", "/v1/finance/trial-balance"]
)
def test_an_unknown_format_is_refused_not_answered_as_json(api: ApiHarness, path: str) -> None:
    customer = api.register()
    response = api.client.get(f"{path}?format=xml", headers=headers_for(api, customer, path))
    problem(response, 422, "validation")
    assert (
        api.client.get(f"{path}?format=csv", headers=headers_for(api, customer, path))
        .headers["content-type"]
        .startswith("text/csv")
    )


def test_no_problem_shows_internals(api: ApiHarness) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    response = api.client.post(
        f"/v1/admin/accounts/{unknown}/topups",
        json={"net": 5, "method": "paypal", "reference": "nobody"},
        headers=api.admin,
    )
    body = problem(response, 404, "not-found")
    assert "Aggregate" not in response.text
    assert "UUID(" not in response.text
    assert body["detail"]


def test_another_accounts_campaign_and_a_random_id_answer_alike(api: ApiHarness) -> None:
    owner, stranger = funded(api), api.register()
    created = api.client.post(
        "/v1/campaigns",
        json={"text": "Hi", "sender": "Kontor", "recipients": [{"number": ONE}]},
        headers=owner.headers,
    )
    theirs = created.json()["campaign_id"]
    messaging_runner(api.backend).catch_up()  # the campaign is in the read model, as in life
    for suffix in ("", "/messages"):
        other = api.client.get(f"/v1/campaigns/{theirs}{suffix}", headers=stranger.headers)
        nobody = api.client.get(f"/v1/campaigns/{uuid4()}{suffix}", headers=stranger.headers)
        assert other.status_code == nobody.status_code == 404
        mine, random = other.json(), nobody.json()
        for answer in (mine, random):
            answer.pop("instance")
            answer["detail"] = answer["detail"].rsplit(" ", 1)[0]  # the id asked for
        assert mine == random


def test_options_on_every_path_is_answered_without_a_key_and_without_internals(
    api: ApiHarness,
) -> None:
    methods: dict[str, set[str]] = {}
    for method, path, _ in operations(api.client.app):
        methods.setdefault(path, set()).add(method)
    for path, expected in sorted(methods.items()):
        response = api.client.options(concrete(path))
        assert response.status_code == 204, (path, response.text)
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert expected <= allowed, (path, allowed)
        assert not response.content


def test_a_cors_pre_flight_is_answered_only_for_the_configured_origins(
    settings_for_tests: Settings, fresh_database_url: str
) -> None:
    preflight = {"Origin": "https://app.example.de", "Access-Control-Request-Method": "POST"}
    settings = replace(settings_for_tests, database_url=fresh_database_url)
    with running_api(settings) as api:
        off = api.client.options("/v1/messages", headers=preflight)
        assert off.status_code == 204
        assert "access-control-allow-origin" not in off.headers
    settings = replace(settings, cors_origins="https://app.example.de")
    with running_api(settings) as api:
        allowed = api.client.options("/v1/messages", headers=preflight)
        assert allowed.status_code == 204, allowed.text
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.de"
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = api.client.options(
            "/v1/messages", headers=preflight | {"Origin": "https://evil.example"}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
