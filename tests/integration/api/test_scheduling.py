"""Scheduling over HTTP: what ``send_at`` may be, and what a scheduled send shows at once."""

from __future__ import annotations

from datetime import timedelta

from tests.support.api import ApiHarness

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
