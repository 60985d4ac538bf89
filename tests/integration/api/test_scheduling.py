"""Scheduling over HTTP: what ``send_at`` may be, and what a scheduled send shows at once."""

from __future__ import annotations

from datetime import timedelta

from adapters.postgres.send_staging import Staging
from projections.messaging_queries import ReadModelDueSends
from services.expansion import Expander
from tests.support.api import ApiHarness
from workers.projections import messaging_runner

PROBLEM = "application/problem+json"


def test_send_at_in_the_past_or_beyond_the_credit_or_horizon_is_a_problem(
    api: ApiHarness,
) -> None:
    customer, _ = api.send_single()  # topped up: a package valid six months
    now = api.clock()

    def send_at(delta: timedelta) -> dict[str, object]:
        body = {"to": ["+4915112345678"], "text": "Termin", "sender": "Kontor",
                "send_at": (now + delta).isoformat()}  # fmt: skip
        response = api.client.post("/v1/messages", json=body, headers=customer.headers)
        assert response.headers["content-type"] == PROBLEM, response.text
        assert response.status_code == 422
        problem: dict[str, object] = response.json()
        return problem

    past = send_at(-timedelta(minutes=10))
    assert str(past["type"]).endswith("/schedule-in-past")
    assert "in the past" in str(past["detail"])
    beyond_credit = send_at(timedelta(days=200))
    assert str(beyond_credit["type"]).endswith("/schedule-beyond-credit")
    too_far = send_at(timedelta(days=400))
    assert str(too_far["type"]).endswith("/schedule-too-far")
    assert too_far["latest"] == (now + timedelta(days=365)).isoformat()
    for end_of_time in ("9999-12-31T23:59:59Z", "9999-12-31T23:59:59"):  # no OverflowError
        body = {"to": ["+4915112345678"], "text": "Nie", "sender": "Kontor",
                "send_at": end_of_time}  # fmt: skip
        response = api.client.post("/v1/messages", json=body, headers=customer.headers)
        assert response.status_code == 422, response.text
        assert response.json()["type"].endswith("/schedule-too-far")
    recent = api.client.post(
        "/v1/messages",
        json={
            "to": ["+4915112345678"],
            "text": "Jetzt",
            "sender": "Kontor",
            "send_at": (now - timedelta(minutes=2)).isoformat(),
        },
        headers=customer.headers,
    )
    assert recent.status_code == 201, recent.text
    assert recent.json()["send_at"] is None  # a moment ago: sent now


def test_a_scheduled_message_is_visible_at_once_and_then_goes_out(api: ApiHarness) -> None:
    customer, _ = api.send_single()
    at = api.clock() + timedelta(hours=2)
    sent = api.client.post(
        "/v1/messages",
        json={
            "to": ["+4915187654321"],
            "text": "Später",
            "sender": "Kontor",
            "send_at": at.isoformat(),
        },
        headers=customer.headers,
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["messages"][0]["message_id"]
    runner = messaging_runner(api.backend)
    runner.catch_up()
    shown = api.client.get(f"/v1/messages/{message_id}", headers=customer.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["message"]["state"] == "scheduled"
    assert shown.json()["to"] == "004915187654321"
    assert shown.json()["text"] == "Später"
    assert [e["event"] for e in shown.json()["history"]] == ["scheduled"]
    listed = api.client.get("/v1/messages", params={"state": "scheduled"}, headers=customer.headers)
    assert [m["message_id"] for m in listed.json()["messages"]] == [message_id]
    staging = Staging(api.backend.pool, api.backend.keyring)  # type: ignore[arg-type]
    expander = Expander(api.backend.messaging, ReadModelDueSends(api.backend.pool), staging)  # type: ignore[arg-type]
    assert expander.expand_round(at + timedelta(seconds=1)) == 1
    runner.catch_up()
    recorded = api.client.get(f"/v1/messages/{message_id}", headers=customer.headers).json()
    assert recorded["message"]["state"] == "queued"
    assert [e["event"] for e in recorded["history"]] == ["scheduled", "recorded"]


def test_a_cancelled_scheduled_message_shows_cancelled(api: ApiHarness) -> None:
    customer, _ = api.send_single()
    sent = api.client.post(
        "/v1/messages",
        json={
            "to": ["+4915187654321"],
            "text": "Später",
            "sender": "Kontor",
            "send_at": (api.clock() + timedelta(hours=2)).isoformat(),
        },
        headers=customer.headers,
    ).json()
    runner = messaging_runner(api.backend)
    runner.catch_up()
    cancelled = api.client.post(f"/v1/campaigns/{sent['send_id']}/cancel", headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    runner.catch_up()
    message_id = sent["messages"][0]["message_id"]
    shown = api.client.get(f"/v1/messages/{message_id}", headers=customer.headers).json()
    assert shown["message"]["state"] == "cancelled"
