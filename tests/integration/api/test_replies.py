"""Replies end to end on the real database: the ingest's recorded reply is correlated by the
replies follower to the message it answers, shown in ``/v1/replies`` with its text, marked
read, never shown to another account; a STOP reply puts the handset on the account's opt-out
list and the next send skips it."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Any

from adapters.smpp.mo import mo_content
from adapters.smpp.pdu import DeliverSm
from services.handsets import Handsets
from tests.integration.api.test_web_pages import FORM, sign_in, token_of
from tests.support.api import ApiHarness, Customer
from workers.projections import messaging_runner
from workers.replies import replies_runner, runner_pool

HANDSET = "+4915112345678"


def sent(api: ApiHarness, customer: Customer, sender: str, to: str = HANDSET) -> dict[str, Any]:
    body = {"to": [to], "text": "Ihr Termin ist morgen", "sender": sender}
    answer = api.client.post("/v1/messages", headers=customer.headers, json=body)
    assert answer.status_code == 201, answer.text
    shown: dict[str, Any] = answer.json()
    return shown


def replied(api: ApiHarness, text: str, to: str, handset: str = HANDSET) -> None:
    """A reply as the ingest records it (services.receipts): its key made, then its batch."""
    backend = api.backend
    pdu = DeliverSm(source_addr=handset.removeprefix("+"), destination_addr=to,
                    short_message=text.encode("latin-1"))  # fmt: skip
    reply = Handsets(backend.keyring).reply("smsc-test", pdu, mo_content(pdu), datetime.now(UTC))
    backend.keyring.create_key(reply.sender.key_id)
    backend.messaging.record_replies("smsc-test", [reply])
    messaging_runner(backend).catch_up()
    own = runner_pool(backend)
    try:
        replies_runner(backend, own).catch_up()
    finally:
        own.close()


def test_a_reply_is_matched_to_the_message_it_answers_and_shown_to_that_account_alone(
    api: ApiHarness,
) -> None:
    customer, other = api.register(), api.register()
    sender = "49170" + str(secrets.randbelow(10**7)).zfill(7)
    message = sent(api, customer, sender)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    replied(api, "Ja, ich komme", "+" + sender)
    page = api.client.get("/v1/replies", headers=customer.headers)
    assert page.status_code == 200, page.text
    (shown,) = page.json()["items"]
    assert shown["text"] == "Ja, ich komme"
    assert shown["number"] == "004915112345678"
    assert shown["send_id"] == message["send_id"]
    assert shown["message_id"] == message["messages"][0]["message_id"]
    assert (shown["rule"], shown["stop"], shown["read"]) == ("number_and_sender", False, False)
    detail = api.client.get(f"/v1/messages/{shown['message_id']}", headers=customer.headers)
    (entry,) = [e for e in detail.json()["history"] if e["event"] == "reply"]
    assert entry["details"]["text"] == "Ja, ich komme"  # in the message's own history
    by_message = api.client.get("/v1/replies", headers=customer.headers,
                                params={"message_id": shown["message_id"]})  # fmt: skip
    assert [r["reply_id"] for r in by_message.json()["items"]] == [shown["reply_id"]]
    by_number = api.client.get("/v1/replies", headers=customer.headers,
                               params={"number": "0151 12345678"})  # fmt: skip
    assert len(by_number.json()["items"]) == 1
    read = api.client.post(f"/v1/replies/{shown['reply_id']}/read", headers=customer.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read"] is True
    assert api.client.get("/v1/replies", headers=other.headers).json()["items"] == []
    theirs = api.client.get(f"/v1/replies/{shown['reply_id']}", headers=other.headers)
    assert theirs.status_code == 404
    assert api.client.get("/v1/replies", headers=customer.headers,
                          params={"cursor": "nonsense"}).status_code == 422  # fmt: skip


def test_stop_opts_the_handset_out_and_the_next_send_skips_it(api: ApiHarness) -> None:
    customer = api.register()
    assert api.topup(customer, 100_000, f"stop-{customer.username}").status_code == 201
    sender = "49171" + str(secrets.randbelow(10**7)).zfill(7)
    sent(api, customer, sender)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    replied(api, "STOPP", sender)
    (shown,) = api.client.get("/v1/replies", headers=customer.headers).json()["items"]
    assert shown["stop"] is True
    opted = api.client.get("/v1/opt-outs", headers=customer.headers,
                           params={"number": HANDSET}).json()["items"]  # fmt: skip
    assert [o["source"] for o in opted] == ["reply"]
    again = api.client.post("/v1/campaigns", headers=customer.headers, json={
        "text": "Neue Angebote", "sender": sender,
        "recipients": [{"number": HANDSET}, {"number": "+4915199999999"}]})  # fmt: skip
    assert again.status_code == 202, again.text
    assert again.json()["recipients"] == 1
    assert again.json()["skipped"] == {"opted_out": 1}


def test_replies_are_read_and_marked_in_the_application(api: ApiHarness) -> None:
    customer = api.register()
    sender = "49172" + str(secrets.randbelow(10**7)).zfill(7)
    message = sent(api, customer, sender)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    replied(api, "Kann ich auf Donnerstag verschieben?", sender)
    assert sign_in(api, customer.username).status_code == 303
    assert "1 ungelesene Antworten" in api.client.get("/app").text
    shown = api.client.get("/app/antworten")
    assert shown.status_code == 200, shown.text
    assert "Kann ich auf Donnerstag verschieben?" in shown.text
    assert f'href="/app/nachrichten/{message["messages"][0]["message_id"]}"' in shown.text
    answered = api.client.get(f"/app/nachrichten/{message['messages'][0]['message_id']}")
    assert "Kann ich auf Donnerstag verschieben?" in answered.text  # on the message's page too
    mark = re.search(r'action="(/app/antworten/[0-9a-f-]+/gelesen)"', shown.text)
    assert mark, shown.text
    marked = api.client.post(mark.group(1), headers=FORM, follow_redirects=False,
                             data={"csrf_token": token_of(shown, "csrf_token")})  # fmt: skip
    assert marked.status_code == 303
    assert "ungelesene Antworten" not in api.client.get("/app").text
    api.client.cookies.clear()
    api.register("fremd2")
    assert sign_in(api, "fremd2").status_code == 303
    assert "Donnerstag" not in api.client.get("/app/antworten").text
    csrf = token_of(api.client.get("/app/antworten"), "csrf_token")
    theirs = api.client.post(mark.group(1), headers=FORM, data={"csrf_token": csrf})
    assert theirs.status_code == 404


def test_an_account_s_own_stop_word_opts_out_and_is_kept_as_typed_rules_say(
    api: ApiHarness,
) -> None:
    customer = api.register()
    words = api.client.put("/v1/account/stop-words", headers=customer.headers,
                           json={"words": ["Ende", "Schluß"]})  # fmt: skip
    assert words.status_code == 200, words.text
    assert words.json() == {"words": ["ende", "schluss"]}
    assert api.client.get("/v1/account", headers=customer.headers).json()["stop_words"] == [
        "ende", "schluss"]  # fmt: skip
    refused = api.client.put("/v1/account/stop-words", headers=customer.headers,
                             json={"words": ["zwei Worte"]})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("invalid-stop-word")
    sender = "49173" + str(secrets.randbelow(10**7)).zfill(7)
    sent(api, customer, sender)
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    replied(api, "ENDE, danke", sender)
    (shown,) = api.client.get("/v1/replies", headers=customer.headers).json()["items"]
    assert shown["stop"] is True
    opted = api.client.get("/v1/opt-outs", headers=customer.headers,
                           params={"number": HANDSET}).json()["items"]  # fmt: skip
    assert len(opted) == 1
