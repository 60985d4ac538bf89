"""Cancelling a campaign answers what it stopped and what had already gone to the carrier
(the carrier sender's claims), and refuses a campaign with nothing left to stop."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.postgres.claims import create_tables
from domain.ids import message_ids
from tests.support.api import ApiHarness, Customer


def campaign(api: ApiHarness, customer: Customer, size: int) -> str:
    body = {"text": "Angebot", "sender": "Kontor", "name": "März",
            "recipients": [{"number": f"+49151{n:08d}"} for n in range(size)]}  # fmt: skip
    accepted = api.client.post("/v1/campaigns", json=body, headers=customer.headers)
    assert accepted.status_code == 202, accepted.text
    campaign_id: str = accepted.json()["campaign_id"]
    return campaign_id


def submitted(api: ApiHarness, campaign_id: str, states: list[str]) -> None:
    """The carrier sender's claims, as it writes them when the messages go on the wire."""
    pool: Any = api.backend.pool
    create_tables(pool)
    ids = message_ids(UUID(campaign_id), len(states))
    with pool.connection() as conn:
        for message_id, state in zip(ids, states, strict=True):
            conn.execute(
                "INSERT INTO submit_claims (message_id, route, state, attempt, send_id)"
                " VALUES (%s, 'sim', %s, 1, %s)",
                (message_id, state, campaign_id),
            )


def test_the_cancellation_says_what_was_stopped_and_what_had_gone(api: ApiHarness) -> None:
    customer, _ = api.send_single()
    campaign_id = campaign(api, customer, 4)
    submitted(api, campaign_id, ["accepted", "accepted", "submitting"])
    cancelled = api.client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["cancellation"] == {
        "stopped": 1, "sent": 2, "in_flight": 1, "rejected": 0
    }  # fmt: skip


def test_a_campaign_whose_messages_all_went_is_not_cancelled(api: ApiHarness) -> None:
    customer, _ = api.send_single()
    campaign_id = campaign(api, customer, 3)
    submitted(api, campaign_id, ["accepted", "accepted", "rejected"])
    refused = api.client.post(f"/v1/campaigns/{campaign_id}/cancel", headers=customer.headers)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/nothing-to-cancel")
    assert (problem["sent"], problem["in_flight"], problem["rejected"]) == (2, 0, 1)
    shown = api.client.get(f"/v1/campaigns/{campaign_id}", headers=customer.headers).json()
    assert shown["state"] != "cancelled"
