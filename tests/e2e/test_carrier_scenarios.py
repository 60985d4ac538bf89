"""The send path against the simulator's failure modes: what each one does to messages,
money and evidence."""

from __future__ import annotations

import time
from typing import Any

import pytest

from kontor.stack import Pipeline
from tests.e2e.test_send_pipeline import campaign_body, customer, headers_of, pipeline

__all__ = ["pipeline"]
FINAL = {"delivered", "failed", "rejected", "cancelled"}


def run_campaign(p: Pipeline, n: int, timeout: float = 90) -> tuple[dict[str, str], dict[str, Any]]:
    with p.client() as client:
        key = customer(client, p)
        started = client.post("/v1/campaigns", json=campaign_body(n), headers=headers_of(key))
        assert started.status_code == 202, started.text
        campaign_id = started.json()["campaign_id"]

        def done() -> Any:
            body = client.get(f"/v1/campaigns/{campaign_id}", headers=headers_of(key)).json()
            final = sum(v for k, v in body["counts"].items() if k in FINAL)
            return body if final == n and body["state"] == "completed" else None

        return key, p.wait_for(done, timeout=timeout, what="campaign")


def balance_when(p: Pipeline, key: dict[str, str], check: Any) -> dict[str, Any]:
    with p.client() as client:

        def matching() -> Any:
            balance = client.get("/v1/account/balance", headers=headers_of(key)).json()
            return balance if check(balance) else None

        return dict(p.wait_for(matching, what="balance"))


@pytest.mark.parametrize(
    "pipeline", [["--reject-prefix", "49160000000", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_rejected_destinations_are_released_not_charged(pipeline: Pipeline) -> None:
    key, campaign = run_campaign(pipeline, 20)
    assert campaign["counts"] == {"rejected": 10, "delivered": 10}
    price = campaign["expected_cost"] // 20
    assert campaign["cost_so_far"] == 10 * price
    balance = balance_when(pipeline, key, lambda b: b["spent"] == 10 * price and b["held"] == 0)
    assert balance["spent"] == 10 * price


@pytest.mark.parametrize(
    "pipeline",
    [
        [
            "--undeliverable",
            "0.5",
            "--undeliverable-error",
            "11",
            "--dlr-delay",
            "0.05,0.2",
            "--seed",
            "7",
        ]
    ],
    indirect=True,
)
def test_undeliverable_messages_are_red_and_still_charged(pipeline: Pipeline) -> None:
    key, campaign = run_campaign(pipeline, 40)
    failed = campaign["counts"].get("failed", 0)
    assert failed > 0
    assert failed + campaign["counts"].get("delivered", 0) == 40
    assert campaign["cost_so_far"] == campaign["expected_cost"]
    with pipeline.client() as client:
        rows = client.get(
            f"/v1/campaigns/{campaign['campaign_id']}/messages",
            params={"state": "failed"},
            headers=headers_of(key),
        ).json()
        assert all(r["colour"] == "red" for r in rows["messages"])
        assert {r["status_text"] for r in rows["messages"]} == {"UNDELIV"}


@pytest.mark.parametrize(
    "pipeline", [["--no-response", "0.3", "--seed", "3", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_unanswered_submits_are_recorded_as_uncertain_before_any_resubmit(
    pipeline: Pipeline,
) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        started = client.post("/v1/campaigns", json=campaign_body(10), headers=headers_of(key))
        campaign_id = started.json()["campaign_id"]

        def uncertain() -> Any:
            rows = client.get(
                f"/v1/campaigns/{campaign_id}/messages", headers=headers_of(key)
            ).json()["messages"]
            return [r for r in rows if r["uncertain"]] or None

        rows = pipeline.wait_for(uncertain, timeout=90, what="an uncertain submit")
        detail = client.get(f"/v1/messages/{rows[0]['message_id']}", headers=headers_of(key))
        outcomes = [
            e["details"].get("outcome")
            for e in detail.json()["history"]
            if e["event"] == "carrier_result"
        ]
        assert "uncertain" in outcomes
    silent = {row.destination_addr for row in pipeline.record.with_effect("no_response")}
    duplicates = pipeline.record.duplicates()
    # A message submitted twice was one the carrier never answered, and that is on record.
    assert all(d.destination_addr in silent for d in duplicates)


@pytest.mark.parametrize(
    "pipeline", [["--throttle-tps", "20", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_throttling_slows_the_bind_and_loses_nothing(pipeline: Pipeline) -> None:
    _, campaign = run_campaign(pipeline, 60, timeout=120)
    assert campaign["counts"] == {"delivered": 60}
    assert pipeline.record.count_submits() == 60
    assert pipeline.record.duplicates() == []
    assert pipeline.record.stat("throttled") > 0


@pytest.mark.parametrize(
    "pipeline", [["--disconnect-every", "15", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_disconnects_are_survived_without_loss(pipeline: Pipeline) -> None:
    _, campaign = run_campaign(pipeline, 50, timeout=120)
    assert sum(campaign["counts"].values()) == 50
    assert pipeline.record.stat("disconnects") > 0


@pytest.mark.parametrize(
    "pipeline", [["--dlr-before-response", "1.0", "--dlr-delay", "0.0,0.01"]], indirect=True
)
def test_receipts_before_the_submit_response_are_parked_and_matched(pipeline: Pipeline) -> None:
    _, campaign = run_campaign(pipeline, 20)
    assert campaign["counts"] == {"delivered": 20}


@pytest.mark.parametrize(
    "pipeline",
    [
        [
            "--mo-share",
            "1.0",
            "--mo-text",
            "STOP",
            "--mo-delay",
            "0.1,0.2",
            "--dlr-delay",
            "0.05,0.1",
        ]
    ],
    indirect=True,
)
def test_replies_are_stored_as_raw_reply_events(pipeline: Pipeline) -> None:
    run_campaign(pipeline, 5)
    import psycopg

    def replies() -> Any:
        with psycopg.connect(str(pipeline.settings.database_url)) as conn:
            rows = conn.execute("SELECT count(*) FROM msg_replies").fetchone()
        return rows is not None and rows[0] >= 5

    pipeline.wait_for(replies, what="replies")


@pytest.mark.parametrize("pipeline", [["--dlr-delay", "3600,3600"]], indirect=True)
def test_an_operator_asks_the_carrier_again_with_query_sm(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        sent = client.post(
            "/v1/messages",
            json={"to": ["+4915112345678"], "text": "Hallo", "sender": "Kontor"},
            headers=headers_of(key),
        ).json()
        message_id = sent["messages"][0]["message_id"]

        def pending() -> Any:
            response = client.get(f"/v1/messages/{message_id}", headers=headers_of(key))
            body = response.json()
            return (
                body
                if response.status_code == 200 and body["message"]["state"] == "pending"
                else None
            )

        pipeline.wait_for(pending, what="carrier acceptance")
        time.sleep(0.5)
        admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
        queried = client.post(
            "/v1/admin/messages/query-status", json={"older_than_minutes": 0}, headers=admin
        )
        assert queried.status_code == 200, queried.text
        assert queried.json()["queried"] >= 1

        def answered() -> Any:
            body = client.get(f"/v1/messages/{message_id}", headers=headers_of(key)).json()
            sources = [e["details"].get("source") for e in body["history"]]
            return body if "query_sm" in sources else None

        pipeline.wait_for(answered, what="the query_sm answer")


@pytest.mark.parametrize(
    "pipeline", [["--queue-full", "0.3", "--seed", "5", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_a_full_carrier_queue_requeues_messages_and_loses_none(pipeline: Pipeline) -> None:
    _, campaign = run_campaign(pipeline, 40, timeout=120)
    assert campaign["counts"] == {"delivered": 40}
    assert pipeline.record.count_submits() == 40
    assert pipeline.record.duplicates() == []


@pytest.mark.parametrize("pipeline", [["--scenario", "slow-dlr", "--seed", "2"]], indirect=True)
def test_slow_receipts_leave_messages_pending_grey_until_they_arrive(pipeline: Pipeline) -> None:
    with pipeline.client() as client:
        key = customer(client, pipeline)
        started = client.post("/v1/campaigns", json=campaign_body(5), headers=headers_of(key))
        campaign_id = started.json()["campaign_id"]

        def pending() -> Any:
            body = client.get(f"/v1/campaigns/{campaign_id}/messages", headers=headers_of(key))
            rows = body.json()["messages"]
            return rows if len(rows) == 5 and all(r["state"] == "pending" for r in rows) else None

        rows = pipeline.wait_for(pending, what="carrier acceptance")
        assert {r["colour"] for r in rows} == {"grey"}

        # Charged on acceptance: settlement follows the carrier's answers (at a lower CPU
        # priority, so a moment after the messages turned pending) and long before the first
        # receipt (the scenario holds receipts back 5 to 30 s).
        def charged() -> Any:
            read = client.get(f"/v1/campaigns/{campaign_id}", headers=headers_of(key)).json()
            return read if read["cost_so_far"] == read["expected_cost"] else None

        read = pipeline.wait_for(charged, timeout=4, what="the charge on acceptance")
        assert read["expected_cost"] > 0
        assert pending() is not None, "a receipt arrived before the check: it proves nothing"
