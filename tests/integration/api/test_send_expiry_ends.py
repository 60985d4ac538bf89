"""A campaign nobody released from review within its validity period ends: it is cancelled by
the system when its reservation expires, its staged recipients are deleted and its credit is
back; an operator can no longer release it. A customer's cancel deletes staged recipients too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from domain.ledger.reservation import reservation_id_for
from domain.messaging.send import EXPIRED_BY, EXPIRED_REASON, Send, SendState
from tests.support.api import ApiHarness, Customer
from workers.projections import messaging_runner
from workers.settlement import settlement_runner


def campaign(api: ApiHarness, customer: Customer, n: int, **extra: Any) -> UUID:
    recipients = [{"number": f"+49160{i:07d}", "fields": {"name": "Kim"}} for i in range(n)]
    body = {"text": "Hallo {name}!", "sender": "Shop", "recipients": recipients, **extra}
    response = api.client.post("/v1/campaigns", json=body, headers=customer.headers)
    assert response.status_code == 202, response.text
    return UUID(response.json()["campaign_id"])


def staged(api: ApiHarness, send_id: UUID) -> int:
    assert api.backend.pool is not None
    with api.backend.pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM send_recipients WHERE send_id = %s", (send_id,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def settled_staged(api: ApiHarness, send_id: UUID) -> int:
    """Staged recipients left once settlement has seen what happened to the send (it deletes
    those of a cancelled send)."""
    settlement_runner(api.backend).catch_up()
    return staged(api, send_id)


def customer_with_credit(api: ApiHarness, review_threshold: int | None = None) -> Customer:
    customer = api.register()
    topped = api.topup(customer, 100_000, f"T-{customer.username}")
    assert topped.status_code == 201, topped.text
    if review_threshold is not None:
        patched = api.client.patch(
            f"/v1/admin/accounts/{customer.account_id}",
            json={"review_threshold": review_threshold},
            headers=api.admin,
        )
        assert patched.status_code == 200, patched.text
    return customer


def test_a_campaign_never_released_from_review_ends_at_its_expiry(api: ApiHarness) -> None:
    customer = customer_with_credit(api, review_threshold=2)
    send_id = campaign(api, customer, 3)
    messaging = api.backend.messaging
    send = messaging.send(send_id)
    assert send.state is SendState.AWAITING_REVIEW
    assert send.expires_at is not None
    assert staged(api, send_id) == 3
    messaging_runner(api.backend).catch_up()
    assert api.balance(customer)["held"] == send.expected_cost

    api.clock.advance(hours=api.settings.message_validity_hours, seconds=1)
    release = f"/v1/admin/campaigns/{send_id}/release"
    refused = api.client.post(release, headers=api.admin)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"].endswith("/send-expired")
    assert problem["expired_at"] == send.expires_at.isoformat()
    assert messaging.send(send_id).state is SendState.AWAITING_REVIEW  # nothing recorded

    api.catch_up()
    closed, _ = api.sweep(api.clock())
    assert closed == 1
    ended = messaging.send(send_id)
    assert ended.state is SendState.CANCELLED
    cancelled = list(messaging.events.get(send_id))[-1]
    assert isinstance(cancelled, Send.Cancelled)
    assert (cancelled.actor, cancelled.reason, cancelled.recorded) == (
        EXPIRED_BY,
        EXPIRED_REASON,
        0,
    )
    assert api.backend.ledger.reservation(reservation_id_for(send_id)).closed
    assert settled_staged(api, send_id) == 0
    balance = api.balance(customer)
    assert (balance["held"], balance["spent"]) == (0, 0)

    messaging_runner(api.backend).catch_up()
    shown = api.client.get(f"/v1/campaigns/{send_id}", headers=customer.headers)
    assert shown.status_code == 200, shown.text
    assert shown.json()["state"] == "cancelled"
    assert api.sweep(api.clock()) == (0, 0)  # nothing left to end
    again = api.client.post(release, headers=api.admin)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/not-awaiting-review")


def test_a_send_left_in_review_by_a_sweeper_that_died_is_ended_later(api: ApiHarness) -> None:
    """The sweeper closed the reservation and died before ending the send: the next sweep
    finds the send through the read models and ends it."""
    customer = customer_with_credit(api, review_threshold=1)
    send_id = campaign(api, customer, 2)
    messaging = api.backend.messaging
    assert messaging.send(send_id).state is SendState.AWAITING_REVIEW
    later = api.clock() + timedelta(hours=api.settings.message_validity_hours, seconds=1)
    assert api.backend.ledger.close_expired([reservation_id_for(send_id)], later)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    assert api.sweep(later) == (0, 0)  # closed before
    assert messaging.send(send_id).state is SendState.CANCELLED
    assert settled_staged(api, send_id) == 0
    assert api.balance(customer)["held"] == 0


def test_cancelling_a_scheduled_campaign_deletes_its_staged_recipients(api: ApiHarness) -> None:
    customer = customer_with_credit(api)
    send_at = (api.clock() + timedelta(hours=1)).isoformat()
    send_id = campaign(api, customer, 4, send_at=send_at)
    assert staged(api, send_id) == 4
    messaging_runner(api.backend).catch_up()
    cancelled = api.client.post(f"/v1/campaigns/{send_id}/cancel", headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    assert staged(api, send_id) == 4  # settlement deletes them, on the cancellation event
    assert settled_staged(api, send_id) == 0
