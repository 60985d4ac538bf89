from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from api.preview import PreviewController, PricingContext, preview_dependencies
from domain.tariff import Tariff
from tests.unit.pricing.factories import NOW, preview_rules


def _account_context(request: Request[Any, Any, Any]) -> PricingContext:
    """Stands in for the lead's account lookup: the tariff comes from a header here."""
    tariff = request.headers.get("x-test-tariff")
    return PricingContext(
        tariff=Tariff(tariff) if tariff else Tariff.QUALITY,
        month_volume=int(request.headers.get("x-test-volume", "0")),
        registered_senders={"IN": frozenset({"Kontor"})},
    )


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    app = Litestar(
        [PreviewController],
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies=preview_dependencies(preview_rules(), _account_context, lambda: NOW),
    )
    with TestClient(app) as test_client:
        yield test_client


def test_a_preview_shows_each_recipient_and_the_totals(client: TestClient[Litestar]) -> None:
    response = client.post(
        "/v1/messages/preview",
        json={
            "text": "Hallo {vorname|Kunde}, bis morgen!",
            "sender": "Kontor",
            "recipients": [
                {"number": "0171-234 5678", "fields": {"Vorname": "Jörg"}},
                {"number": "12"},
                {"number": "+91 98123 45678"},
            ],
        },
    )
    assert response.status_code == 200
    body = response.json()
    first, second, third = body["recipients"]
    assert first == {
        "number": "0171-234 5678",
        "to_e164": "+491712345678",
        "to_display": "00491712345678",
        "country": "DE",
        "number_type": "mobile",
        "text": "Hallo Jörg, bis morgen!",
        "encoding": "GSM-7",
        "characters": 23,
        "units": 23,
        "segments": 1,
        "price": 790,
        "price_eur": "0.0790",
        "delivery_reports": True,
        "ucs2_characters": [],
        "error": None,
        "error_code": None,
    }
    assert second["error_code"] == "invalid-number"
    assert second["to_e164"] is None
    assert second["price"] is None
    assert third["price"] == 1_490  # registered sender for India, worldwide rate
    assert {k: v for k, v in body.items() if k not in ("recipients", "normalization")} == {
        "tariff": "quality",
        "price_list_version": "test",
        "currency": "EUR",
        "total_price": 2_280,
        "vat": 433,
        "total_gross": 2_713,
        "total_price_eur": "0.2280",
        "vat_eur": "0.0433",
        "total_gross_eur": "0.2713",
        "segments": 2,
        "recipients_ok": 2,
        "recipients_failed": 1,
    }


def test_the_tariff_and_month_volume_come_from_the_injected_context(
    client: TestClient[Litestar],
) -> None:
    body = {"text": "Hi", "recipients": [{"number": "+491712345678"}] * 2}
    economy = client.post("/v1/messages/preview", json=body, headers={"x-test-tariff": "economy"})
    assert [r["price"] for r in economy.json()["recipients"]] == [590, 590]
    tiered = client.post("/v1/messages/preview", json=body, headers={"x-test-volume": "9999"})
    assert [r["price"] for r in tiered.json()["recipients"]] == [790, 740]
    chosen = client.post(
        "/v1/messages/preview",
        json=body | {"tariff": "high-quality"},
        headers={"x-test-tariff": "economy"},
    )
    assert chosen.json()["tariff"] == "high-quality"


def test_normalize_replaces_smart_characters(client: TestClient[Litestar]) -> None:
    body = {"text": "Wir sehen uns – bis gleich…", "recipients": [{"number": "+491712345678"}]}
    plain = client.post("/v1/messages/preview", json=body).json()
    assert plain["recipients"][0]["encoding"] == "UCS-2"
    assert [c["character"] for c in plain["recipients"][0]["ucs2_characters"]] == ["–", "…"]
    assert plain["normalization"]["restores_gsm"] is True
    normalized = client.post("/v1/messages/preview", json=body | {"normalize": True}).json()
    assert normalized["recipients"][0]["text"] == "Wir sehen uns - bis gleich..."
    assert normalized["recipients"][0]["encoding"] == "GSM-7"


def test_a_text_over_1500_characters_is_a_422_problem_with_the_exact_count(
    client: TestClient[Litestar],
) -> None:
    response = client.post(
        "/v1/messages/preview",
        json={"text": "x" * 1_501 + "{name|}", "recipients": [{"number": "+491712345678"}]},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"].endswith("/text-too-long")
    assert (body["characters"], body["limit"]) == (1_501, 1_500)
    assert "1,501" in body["detail"]


@pytest.mark.parametrize(
    ("patch", "slug", "members"),
    [
        ({"text": "Hallo {name"}, "template-syntax", {"position": 6}),
        (
            {"sender": "My Shop"},
            "invalid-sender",
            {"character": " ", "position": 2, "length": None},
        ),
        ({"sender": "Kontor123456"}, "invalid-sender", {"length": 12}),
    ],
)
def test_request_level_problems_are_422s(
    client: TestClient[Litestar], patch: dict[str, str], slug: str, members: dict[str, object]
) -> None:
    body = {"text": "Hallo", "recipients": [{"number": "+491712345678"}]} | patch
    response = client.post("/v1/messages/preview", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/" + slug)
    assert members.items() <= problem.items()


@pytest.mark.parametrize(
    "body",
    [
        {"text": "Hi", "recipients": []},
        {"text": "", "recipients": [{"number": "+491712345678"}]},
        {"text": "Hi", "recipients": [{"number": "+491712345678"}], "tariff": "platinum"},
        {"text": "Hi", "recipients": [{"number": "+491712345678", "fields": {"a": 1}}]},
        {"text": "Hi", "recipients": [{"number": "+491712345678"}], "unknown": True},
    ],
)
def test_invalid_requests_are_422_validation_problems(
    client: TestClient[Litestar], body: dict[str, object]
) -> None:
    response = client.post("/v1/messages/preview", json=body)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation")
