"""Callbacks end to end on the real database and a real HTTP receiver: an account sets its
webhook URLs and forwarding addresses (refused with a problem when unusable) and rotates its
secret; a matched reply is queued once as a signed ``reply.received`` call and a mail, a
delivery report as ``message.status``; the sender posts them, every attempt is shown, and a
callback can be redelivered."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

import pytest
from standardwebhooks.webhooks import Webhook

from adapters.postgres.callbacks import PostgresCallbacks
from adapters.webhooks import AddressGuard, WebhookPoster, networks
from domain.messaging.records import DeliveryReport
from services.callbacks import CallbackSender
from tests.integration.api.test_replies import replied, sent
from tests.integration.api.test_web_pages import FORM, sign_in, token_of
from tests.support.api import ApiHarness, Customer
from tests.support.receiver import Receiver, receiver
from workers.callbacks import AccountSecrets
from workers.projections import messaging_runner
from workers.replies import runner_pool, status_runner


@pytest.fixture
def http() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def deliver_due(api: ApiHarness) -> None:
    """One round of the callbacks worker."""
    store = PostgresCallbacks(api.backend.pool, api.backend.keyring)  # type: ignore[arg-type]
    poster = WebhookPoster(AddressGuard(networks("127.0.0.0/8")))
    sender = CallbackSender(store, poster, AccountSecrets(api.backend), lambda: datetime.now(UTC))

    async def go() -> None:
        await sender.round()
        await sender.drain()
        await poster.aclose()

    asyncio.run(go())


def deliveries(api: ApiHarness, customer: Customer, **params: str) -> list[dict[str, object]]:
    page = api.client.get("/v1/callbacks/deliveries", headers=customer.headers, params=params)
    assert page.status_code == 200, page.text
    items: list[dict[str, object]] = page.json()["items"]
    return items


def test_callbacks_are_set_checked_and_the_secret_rotates(api: ApiHarness) -> None:
    customer = api.register()
    shown = api.client.get("/v1/callbacks", headers=customer.headers).json()
    assert shown == {"reply_url": None, "reply_emails": [], "status_url": None,
                     "status_every_state": False, "secret_set": False,
                     "previous_secret_retires_at": None}  # fmt: skip
    changed = api.client.put("/v1/callbacks", headers=customer.headers, json={
        "reply_url": "https://hooks.example.de/mo", "reply_emails": ["team@example.de"],
        "status_url": "https://hooks.example.de/dlr", "status_every_state": True})  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["reply_emails"] == ["team@example.de"]
    refused = api.client.put("/v1/callbacks", headers=customer.headers,
                             json={"reply_url": "http://hooks.example.de/mo"})  # fmt: skip
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "https is required" in refused.json()["detail"]
    bad_mail = api.client.put("/v1/callbacks", headers=customer.headers,
                              json={"reply_emails": ["nobody"]})  # fmt: skip
    assert bad_mail.status_code == 422
    first = api.client.post("/v1/callbacks/secret", headers=customer.headers)
    assert first.status_code == 201
    assert first.json()["secret"].startswith("whsec_")
    assert first.json()["previous_secret_retires_at"] is None
    second = api.client.post("/v1/callbacks/secret", headers=customer.headers).json()
    assert second["secret"] != first.json()["secret"]
    assert second["previous_secret_retires_at"] is not None
    assert api.client.get("/v1/callbacks", headers=customer.headers).json()["secret_set"]
    missing = api.client.get(f"/v1/callbacks/deliveries/{UUID(int=1)}", headers=customer.headers)
    assert missing.status_code == 404


def test_a_reply_is_posted_signed_and_mailed_once(api: ApiHarness, http: Receiver) -> None:
    customer = api.register()
    api.client.put("/v1/callbacks", headers=customer.headers, json={
        "reply_url": http.url + "/ok", "reply_emails": ["team@example.de"]})  # fmt: skip
    secret = api.client.post("/v1/callbacks/secret", headers=customer.headers).json()["secret"]
    sender = "49173" + str(secrets.randbelow(10**7)).zfill(7)
    message = sent(api, customer, sender)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    replied(api, "Ja, ich komme", sender)
    (queued,) = deliveries(api, customer)
    assert (queued["event_type"], queued["state"]) == ("reply.received", "pending")
    with api.backend.pool.connection() as conn:  # type: ignore[union-attr]
        mails = conn.execute(
            "SELECT subject, body_text FROM mail_outbox WHERE to_address = 'team@example.de'"
            " AND body_text LIKE '%%Ja, ich komme%%'"
        ).fetchall()
    assert len(mails) == 1
    deliver_due(api)
    (got,) = http.on("/ok")
    payload = json.loads(got.body)
    assert payload["data"]["text"] == "Ja, ich komme"
    assert payload["data"]["message_id"] == message["messages"][0]["message_id"]
    Webhook(secret).verify(got.body, got.headers)
    shown = api.client.get(f"/v1/callbacks/deliveries/{queued['delivery_id']}",
                           headers=customer.headers).json()  # fmt: skip
    assert shown["state"] == "delivered"
    assert [a["status"] for a in shown["attempt_log"]] == [200]
    again = api.client.post(f"/v1/callbacks/deliveries/{queued['delivery_id']}/redeliver",
                            headers=customer.headers)  # fmt: skip
    assert again.status_code == 202
    deliver_due(api)
    assert [r.headers["Webhook-Id"] for r in http.on("/ok")] == [str(queued["delivery_id"])] * 2
    other = api.register()
    assert deliveries(api, other) == []
    foreign = api.client.post(f"/v1/callbacks/deliveries/{queued['delivery_id']}/redeliver",
                              headers=other.headers)  # fmt: skip
    assert foreign.status_code == 404


def test_final_reports_become_status_calls(api: ApiHarness, http: Receiver) -> None:
    customer = api.register()
    api.client.put("/v1/callbacks", headers=customer.headers,
                   json={"status_url": http.url + "/ok"})  # fmt: skip
    shown = sent(api, customer, "Praxis")
    message = shown["messages"][0]
    now = datetime.now(UTC)
    report = {"message_id": UUID(message["message_id"]), "send_id": UUID(shown["send_id"]),
              "account_id": customer.account_id, "part": 1, "carrier_id": "77",
              "status_text": "", "error_code": None, "done_at": now, "received_at": now,
              "source": "deliver_sm"}  # fmt: skip
    api.backend.messaging.record_deliveries("carrier", [
        DeliveryReport(state="enroute", final=False, **report),  # type: ignore[arg-type]
        DeliveryReport(state="delivered", final=True, **report),  # type: ignore[arg-type]
    ])  # fmt: skip
    own = runner_pool(api.backend)
    try:
        status_runner(api.backend, own).catch_up()
    finally:
        own.close()
    deliver_due(api)
    (got,) = http.on("/ok")
    assert json.loads(got.body)["data"]["state"] == "delivered"
    assert "Webhook-Signature" not in got.headers  # no secret made: unsigned


def test_forwarding_is_set_in_the_application(api: ApiHarness, http: Receiver) -> None:
    customer = api.register()
    assert sign_in(api, customer.username).status_code == 303
    shown = api.client.get("/app/weiterleitung")
    assert shown.status_code == 200, shown.text
    assert "Noch kein Rückruf." in shown.text
    csrf = token_of(shown, "csrf_token")
    refused = api.client.post("/app/weiterleitung", headers=FORM, data={
        "csrf_token": csrf, "reply_url": "http://hooks.example.de/mo"})  # fmt: skip
    assert refused.status_code == 422
    assert "https is required" in refused.text
    saved = api.client.post("/app/weiterleitung", headers=FORM, follow_redirects=False, data={
        "csrf_token": csrf, "reply_url": "https://hooks.example.de/mo",
        "reply_emails": "team@example.de, chef@example.de", "status_url": http.url + "/ok",
        "status_every_state": "yes"})  # fmt: skip
    assert saved.status_code == 303
    callbacks = api.client.get("/v1/callbacks", headers=customer.headers).json()
    assert callbacks["reply_emails"] == ["team@example.de", "chef@example.de"]
    assert callbacks["status_every_state"]
    rotated = api.client.post("/app/weiterleitung/geheimnis", headers=FORM,
                              data={"csrf_token": csrf})  # fmt: skip
    assert rotated.status_code == 200
    secret = re.search(r"<code>(whsec_[^<]+)</code>", rotated.text)
    assert secret, rotated.text
    message = sent(api, customer, "Praxis")
    now = datetime.now(UTC)
    api.backend.messaging.record_deliveries("carrier", [DeliveryReport(
        message_id=UUID(message["messages"][0]["message_id"]), send_id=UUID(message["send_id"]),
        account_id=UUID(str(customer.account_id)), part=1, carrier_id="78", state="delivered",
        status_text="", error_code=None, final=True, done_at=now, received_at=now,
        source="deliver_sm")])  # fmt: skip
    own = runner_pool(api.backend)
    try:
        status_runner(api.backend, own).catch_up()
    finally:
        own.close()
    deliver_due(api)
    Webhook(secret.group(1)).verify(http.on("/ok")[0].body, http.on("/ok")[0].headers)
    listed = api.client.get("/app/weiterleitung")
    link = re.search(r'href="(/app/weiterleitung/[0-9a-f-]+)"', listed.text)
    assert link, listed.text
    detail = api.client.get(link.group(1))
    assert "zugestellt" in listed.text
    assert detail.status_code == 200
    assert "<td>200" in detail.text  # the attempt's answer
    assert "<dd>delivered" in detail.text
    again = api.client.post(link.group(1) + "/erneut", headers=FORM, follow_redirects=False,
                            data={"csrf_token": token_of(detail, "csrf_token")})  # fmt: skip
    assert again.status_code == 303
    assert "<dd>pending" in api.client.get(link.group(1)).text
