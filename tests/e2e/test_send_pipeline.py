"""The send path end to end: API -> ledger -> messaging -> relay -> dispatcher -> SMPP ->
simulator -> receipts -> ingest -> read models and settlement, as separate processes."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from adapters.smpp.smpptime import parse_relative_smpp_time
from kontor.samples import registration
from kontor.stack import Pipeline
from settings import Settings

BERLIN = ZoneInfo("Europe/Berlin")

FINAL = {"delivered", "failed", "rejected", "cancelled"}


@pytest.fixture
def pipeline(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path, request: Any
) -> Iterator[Pipeline]:
    sim_args = getattr(request, "param", ["--scenario", "happy", "--dlr-delay", "0.05,0.3"])
    settings = replace(
        settings_for_tests,
        database_url=fresh_database_url,
        nats_prefix=f"p{secrets.token_hex(4)}",
        registrations_per_hour=10_000,
    )
    running = Pipeline(settings, tmp_path / "pipeline", sim_args)
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


def customer(client: httpx.Client, pipeline: Pipeline, credit: int = 10_000_000) -> dict[str, str]:
    body = registration(f"eva{secrets.token_hex(4)}")
    registered = client.post("/v1/accounts", json=body)
    assert registered.status_code == 201, registered.text
    account = registered.json()
    admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
    topup = client.post(
        f"/v1/admin/accounts/{account['account_id']}/topups",
        json={"net": credit, "method": "bank_transfer", "reference": secrets.token_hex(6)},
        headers=admin,
    )
    assert topup.status_code == 201, topup.text
    return {"Authorization": f"Bearer {account['api_key']}", "account_id": account["account_id"]}


def headers_of(key: dict[str, str]) -> dict[str, str]:
    return {"Authorization": key["Authorization"]}


def test_a_single_message_is_delivered_charged_and_replayable(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        sent = client.post(
            "/v1/messages",
            json={"to": ["0171 2345678"], "text": "Ihr Code: 4711", "sender": "Kontor"},
            headers=headers_of(key),
        )
        assert sent.status_code == 201, sent.text
        body = sent.json()
        message_id = body["messages"][0]["message_id"]
        assert body["messages"][0]["to"] == "00491712345678"
        price = body["total_price"]

        def delivered() -> Any:
            response = client.get(f"/v1/messages/{message_id}", headers=headers_of(key))
            return (
                response.json()
                if response.status_code == 200
                and response.json()["message"]["state"] == "delivered"
                else None
            )

        detail = pipeline.wait_for(delivered, what="delivery")
        assert detail["to"] == "00491712345678"
        assert detail["text"] == "Ihr Code: 4711"
        events = [entry["event"] for entry in detail["history"]]
        assert events[:2] == ["recorded", "carrier_result"]
        assert "delivery_report" in events
        assert detail["message"]["colour"] == "green"

        def charged() -> Any:
            balance = client.get("/v1/account/balance", headers=headers_of(key)).json()
            return balance if balance["spent"] == price else None

        balance = pipeline.wait_for(charged, what="capture")
        assert balance["held"] == 0
        assert pipeline.record.count_submits() == 1
        # It went with what was left of its validity period (72 hours from its recording).
        (submit,) = pipeline.record.submits("+491712345678")
        left = parse_relative_smpp_time(submit.validity_period)
        assert left is not None
        validity = timedelta(hours=pipeline.settings.message_validity_hours)
        assert validity - timedelta(minutes=1) < left <= validity


def test_a_campaign_finishes_with_every_message_final_and_exact_charges(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        recipients = [
            {"number": f"+49151{n:08d}", "fields": {"vorname": "Jo" if n % 2 else "Maximiliane"}}
            for n in range(300)
        ]
        started = client.post(
            "/v1/campaigns",
            json={
                "name": "Herbst",
                "text": "Hallo {vorname}, Ihr Termin steht.",
                "sender": "Praxis",
                "recipients": recipients,
            },
            headers={**headers_of(key), "Idempotency-Key": "herbst-1"},
        )
        assert started.status_code == 202, started.text
        campaign = started.json()
        assert campaign["recipients"] == 300

        def finished() -> Any:
            read = client.get(f"/v1/campaigns/{campaign['campaign_id']}", headers=headers_of(key))
            body = read.json()
            done = sum(n for state, n in body["counts"].items() if state in FINAL)
            return body if done == 300 and body["state"] == "completed" else None

        final = pipeline.wait_for(finished, timeout=120, what="campaign completion")
        assert final["counts"] == {"delivered": 300}
        assert final["cost_so_far"] == campaign["expected_cost"]
        again = client.post(
            "/v1/campaigns",
            json={
                "name": "Herbst",
                "text": "Hallo {vorname}, Ihr Termin steht.",
                "sender": "Praxis",
                "recipients": recipients,
            },
            headers={**headers_of(key), "Idempotency-Key": "herbst-1"},
        )
        assert again.status_code == 200
        assert again.json()["campaign_id"] == campaign["campaign_id"]
        other = client.post(
            "/v1/campaigns",
            json={"text": "Anders", "sender": "Praxis", "recipients": recipients[:3]},
            headers={**headers_of(key), "Idempotency-Key": "herbst-1"},
        )
        assert other.status_code == 422
        assert pipeline.record.count_submits() == 300
        assert pipeline.record.duplicates() == []
        finance = {"Authorization": f"Bearer {pipeline.settings.finance_api_key}"}
        time.sleep(0.5)
        trial = client.get("/v1/finance/trial-balance", headers=finance).json()
        assert trial["balanced"] is True


def campaign_body(n: int, **extra: Any) -> dict[str, Any]:
    recipients = [{"number": f"+49160{i:07d}", "fields": {"name": "Kim"}} for i in range(n)]
    return {"text": "Hallo {name}!", "sender": "Shop", "recipients": recipients, **extra}


def test_a_scheduled_campaign_waits_and_cancelling_it_returns_the_credit(
    pipeline: Pipeline,
) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)

        def topped_up() -> Any:
            balance = client.get("/v1/account/balance", headers=headers_of(key)).json()
            return balance if balance["available"] > 10_000_000 else None

        before = pipeline.wait_for(topped_up, what="top-up in the balance")
        # Tomorrow at nine, Europe/Berlin local time (within the horizon and the credit's validity)
        nine = (datetime.now(BERLIN) + timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        later = nine.replace(tzinfo=None).isoformat()
        started = client.post(
            "/v1/campaigns", json=campaign_body(20, send_at=later), headers=headers_of(key)
        )
        assert started.status_code == 202, started.text
        campaign = started.json()
        assert campaign["state"] == "scheduled"
        assert datetime.fromisoformat(campaign["send_at"]) == nine.astimezone(UTC)

        def holding() -> Any:
            balance = client.get("/v1/account/balance", headers=headers_of(key)).json()
            return balance if balance["held"] == campaign["expected_cost"] else None

        held = pipeline.wait_for(holding, what="hold")
        assert held["available"] == before["available"] - campaign["expected_cost"]
        time.sleep(1.0)
        assert pipeline.record.count_submits() == 0
        cancelled = client.post(
            f"/v1/campaigns/{campaign['campaign_id']}/cancel", headers=headers_of(key)
        )
        assert cancelled.status_code == 200, cancelled.text

        def refunded() -> Any:
            balance = client.get("/v1/account/balance", headers=headers_of(key)).json()
            return balance if balance["held"] == 0 else None

        after = pipeline.wait_for(refunded, what="release on cancel")
        assert after["available"] == before["available"]
        again = client.post(
            f"/v1/campaigns/{campaign['campaign_id']}/cancel", headers=headers_of(key)
        )
        assert again.status_code == 409
        assert pipeline.record.count_submits() == 0


def test_a_campaign_above_the_review_threshold_waits_for_the_operator(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
        client.patch(
            f"/v1/admin/accounts/{key['account_id']}", json={"review_threshold": 5}, headers=admin
        )
        started = client.post("/v1/campaigns", json=campaign_body(8), headers=headers_of(key))
        campaign = started.json()
        assert campaign["review_required"] is True
        assert campaign["state"] == "awaiting_review"
        time.sleep(1.5)
        assert pipeline.record.count_submits() == 0
        denied = client.post(
            f"/v1/admin/campaigns/{campaign['campaign_id']}/release", headers=headers_of(key)
        )
        assert denied.status_code == 403
        released = client.post(
            f"/v1/admin/campaigns/{campaign['campaign_id']}/release", headers=admin
        )
        assert released.status_code == 200, released.text
        pipeline.wait_for(lambda: pipeline.record.count_submits() == 8, what="release to send")


def test_a_refused_send_is_a_402_and_records_nothing(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline, credit=1_000)
        refused = client.post("/v1/campaigns", json=campaign_body(50), headers=headers_of(key))
        assert refused.status_code == 402
        problem = refused.json()
        assert problem["type"].endswith("/insufficient-credit")
        assert problem["shortfall"] > 0
        listed = client.get("/v1/campaigns", headers=headers_of(key)).json()
        assert listed["campaigns"] == []
        admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
        client.patch(
            f"/v1/admin/accounts/{key['account_id']}",
            json={"contract": {"type": "postpaid", "daily_parts": 10, "monthly_parts": 100}},
            headers=admin,
        )
        limited = client.post("/v1/campaigns", json=campaign_body(11), headers=headers_of(key))
        assert limited.status_code == 402
        assert limited.json()["period"] == "daily"
        fine = client.post("/v1/campaigns", json=campaign_body(10), headers=headers_of(key))
        assert fine.status_code == 202
        blocked = client.patch(
            f"/v1/admin/accounts/{key['account_id']}",
            json={"blocked_senders": ["Shop"]},
            headers=admin,
        )
        assert blocked.status_code == 200
        refused_sender = client.post(
            "/v1/messages",
            json={"to": ["+4915112345678"], "text": "x", "sender": "Shop"},
            headers=headers_of(key),
        )
        assert refused_sender.status_code == 422
        assert refused_sender.json()["type"].endswith("/sender-blocked")
        client.patch(
            f"/v1/admin/accounts/{key['account_id']}",
            json={"state": "blocked", "reason": "test"},
            headers=admin,
        )
        inactive = client.post(
            "/v1/messages",
            json={"to": ["+4915112345678"], "text": "x", "sender": "Other"},
            headers=headers_of(key),
        )
        assert inactive.status_code == 403


def test_invalid_recipients_are_skipped_and_reported(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        sent = client.post(
            "/v1/messages",
            json={"to": ["0171 2345678", "12", "+4930123456"], "text": "Hallo", "sender": "Kontor"},
            headers=headers_of(key),
        )
        assert sent.status_code == 201, sent.text
        body = sent.json()
        assert [m["to"] for m in body["messages"]] == ["00491712345678", "004930123456"]
        mobile, fixed_line = body["messages"]
        assert fixed_line["price"] > mobile["price"]  # fixed lines have a price of their own
        assert [s["position"] for s in body["skipped"]] == [1]
        assert body["skipped"][0]["reason"] == "invalid-number"
