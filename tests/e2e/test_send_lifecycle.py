"""A send's life as customers, support and finance see it: lists and personalisation, opt-outs,
account isolation, support's search, erasure, multi-part messages and idempotency keys."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kontor.stack import Pipeline
from tests.e2e.test_send_pipeline import pipeline
from tests.support.sends import (
    admin,
    balance_when,
    campaign_messages,
    campaign_settled,
    finance,
    json_of,
    message_when,
    new_customer,
)

__all__ = ["pipeline"]
REDACTED = "[redacted]"


def tomorrow() -> str:
    """A send time a day ahead: within the horizon and the credit's validity."""
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


def test_a_list_campaign_is_personalised_and_never_sends_to_opted_out_numbers(
    pipeline: Pipeline,
) -> None:
    people = {
        "+4915110000001": "Anna",
        "+4915110000002": "Jörg",
        "+4915110000003": "Zoe",
        "+4915110000004": "Ben",
    }
    opted_out = "+4915110000003"
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        made = json_of(client.post("/v1/lists", json={"name": "Praxis"}, headers=key), 201)
        added = client.post(
            f"/v1/lists/{made['id']}/recipients",
            json={
                "recipients": [{"number": n, "fields": {"vorname": v}} for n, v in people.items()]
            },
            headers=key,
        )
        assert json_of(added, 201)["added"] == 4
        # Typed the way a customer would; the list holds it as +49...
        json_of(client.post("/v1/opt-outs", json={"number": "0151 10000003"}, headers=key), 201)

        started = client.post(
            "/v1/campaigns",
            json={
                "name": "Erinnerung",
                "list_id": made["id"],
                "text": "Hallo {vorname}, Ihr Termin steht.",
                "sender": "Praxis",
            },
            headers=key,
        )
        campaign = json_of(started, 202)
        # Answered at once; the expander accepts the list in the background.
        assert (campaign["state"], campaign["recipients"]) == ("accepting", 4)

        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=90)
        assert final["counts"] == {"delivered": 3}
        assert (final["recipients"], final["skipped"]) == (3, [{"reason": "opted_out", "count": 1}])
        assert final["acceptance"]["state"] == "accepted"
        shown = {}
        for row in campaign_messages(client, key, campaign["campaign_id"]):
            detail = json_of(client.get(f"/v1/messages/{row['message_id']}", headers=key))
            shown[detail["to"]] = detail["text"]
        assert shown == {
            "00" + number[1:]: f"Hallo {name}, Ihr Termin steht."
            for number, name in people.items()
            if number != opted_out
        }

        single = client.post(
            "/v1/messages",
            json={"to": ["+49 151 10000003", "+4915110000004"], "text": "Neu", "sender": "Praxis"},
            headers=key,
        )
        sent = json_of(single, 201)
        assert [(s["position"], s["reason"]) for s in sent["skipped"]] == [(0, "opted_out")]
        assert [m["to"] for m in sent["messages"]] == ["004915110000004"]
        alone = client.post(
            "/v1/messages",
            json={"to": ["015110000003"], "text": "Neu", "sender": "Praxis"},
            headers=key,
        )
        assert alone.status_code == 422
        assert alone.json()["type"].endswith("/no-recipients")
        message_when(pipeline, client, key, sent["messages"][0]["message_id"])

    assert pipeline.record.submits(opted_out) == []
    assert pipeline.record.count_submits() == 4
    assert pipeline.record.duplicates() == []


def test_an_account_never_sees_or_cancels_another_accounts_sends(pipeline: Pipeline) -> None:
    number = "+4915120000001"
    with pipeline.client() as client:
        owner_id, owner = new_customer(client, pipeline)
        _, other = new_customer(client, pipeline)
        campaign = json_of(
            client.post(
                "/v1/campaigns",
                json={
                    "text": "Sommerfest",
                    "sender": "Verein",
                    "recipients": [{"number": number}],
                    "send_at": tomorrow(),
                },
                headers=owner,
            ),
            202,
        )
        campaign_path = f"/v1/campaigns/{campaign['campaign_id']}"
        # At once (the read model may not have it yet) and again once it has.
        assert client.get(campaign_path, headers=other).status_code == 404
        sent = json_of(
            client.post(
                "/v1/messages",
                json={"to": [number], "text": "Ihr Code: 1234", "sender": "Verein"},
                headers=owner,
            ),
            201,
        )
        message_id = sent["messages"][0]["message_id"]
        message_when(pipeline, client, owner, message_id)
        pipeline.wait_for(
            lambda: client.get(campaign_path, headers=owner).json()["state"] == "scheduled",
            what="the campaign in the read model",
        )

        assert client.get(campaign_path, headers=other).status_code == 404
        assert client.get(f"{campaign_path}/messages", headers=other).status_code == 404
        assert client.post(f"{campaign_path}/cancel", headers=other).status_code == 404
        assert client.get(f"/v1/messages/{message_id}", headers=other).status_code == 404
        assert json_of(client.get("/v1/campaigns", headers=other))["campaigns"] == []
        for params in ({"number": number}, {"account_id": owner_id}, {}):
            found = json_of(client.get("/v1/messages", params=params, headers=other))
            assert found["messages"] == []
        owners_view = json_of(client.get("/v1/messages", params={"number": number}, headers=owner))
        assert [m["message_id"] for m in owners_view["messages"]] == [message_id]
        assert json_of(client.get(campaign_path, headers=owner))["state"] == "scheduled"


def test_support_finds_any_accounts_messages_and_history_but_finance_cannot(
    pipeline: Pipeline,
) -> None:
    number = "+4915130000001"
    with pipeline.client() as client:
        first_id, first = new_customer(client, pipeline)
        _, second = new_customer(client, pipeline)
        ids = []
        for key, text in ((first, "Termin am Montag"), (second, "Paket ist da")):
            body = {"to": [number], "text": text, "sender": "Kontor"}
            sent = json_of(client.post("/v1/messages", json=body, headers=key), 201)
            ids.append(sent["messages"][0]["message_id"])
            message_when(pipeline, client, key, ids[-1])

        found = json_of(
            client.get(
                "/v1/messages",
                params={"account_id": first_id, "number": "0151 30000001"},
                headers=admin(pipeline),
            )
        )
        assert [m["message_id"] for m in found["messages"]] == [ids[0]]
        detail = json_of(client.get(f"/v1/messages/{ids[0]}", headers=admin(pipeline)))
        assert (detail["to"], detail["text"]) == ("004915130000001", "Termin am Montag")
        events = [e["event"] for e in detail["history"]]
        assert events[:2] == ["recorded", "carrier_result"]
        assert "delivery_report" in events
        unscoped = client.get("/v1/messages", params={"number": number}, headers=admin(pipeline))
        assert unscoped.status_code == 422

        params = {"account_id": first_id, "number": number}
        assert (
            client.get("/v1/messages", params=params, headers=finance(pipeline)).status_code == 403
        )
        assert client.get(f"/v1/messages/{ids[0]}", headers=finance(pipeline)).status_code == 403


def test_an_erased_number_is_redacted_in_history_the_ledger_stays_and_it_can_be_sent_to_again(
    pipeline: Pipeline,
) -> None:
    number = "+4915140000001"
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        body = {"to": [number], "text": "Ihr Befund liegt vor", "sender": "Praxis"}
        sent = json_of(client.post("/v1/messages", json=body, headers=key), 201)
        message_id, price = sent["messages"][0]["message_id"], sent["total_price"]
        before = message_when(pipeline, client, key, message_id, frozenset({"delivered"}))
        assert before["text"] == "Ihr Befund liegt vor"
        charged = balance_when(
            pipeline, client, key, lambda b: b["spent"] == price and b["held"] == 0, "capture"
        )

        erased = json_of(
            client.post("/v1/privacy/erasures", json={"number": "0151 40000001"}, headers=key), 201
        )
        assert erased["key_shredded"] is True

        after = json_of(client.get(f"/v1/messages/{message_id}", headers=key))
        assert (after["to"], after["text"]) == (REDACTED, REDACTED)
        assert [e["event"] for e in after["history"]] == [e["event"] for e in before["history"]]
        assert after["message"]["price"] == price
        assert after["message"]["state"] == "delivered"
        ledger = ("available", "held", "spent", "credited", "debited")
        now = json_of(client.get("/v1/account/balance", headers=key))
        assert {k: now[k] for k in ledger} == {k: charged[k] for k in ledger}
        trial = json_of(client.get("/v1/finance/trial-balance", headers=finance(pipeline)))
        assert trial["balanced"] is True

        again = {"to": [number], "text": "Neuer Termin", "sender": "Praxis"}
        resent = json_of(client.post("/v1/messages", json=again, headers=key), 201)
        new_id = resent["messages"][0]["message_id"]
        fresh = message_when(pipeline, client, key, new_id)
        assert fresh["message"]["state"] == "delivered"
        assert (fresh["to"], fresh["text"]) == ("004915140000001", "Neuer Termin")
        old = json_of(client.get(f"/v1/messages/{message_id}", headers=key))
        assert (old["to"], old["text"]) == (REDACTED, REDACTED)
    assert len(pipeline.record.submits(number)) == 2


GSM_200 = ("Liebe Kundin, lieber Kunde, Ihr Termin am Montag um 9 Uhr ist bestätigt. " * 3)[:200]
UCS2_TEXT = "Grüße aus Köln 🎉 " * 6  # 102 characters, the emoji needs UCS-2


@pytest.mark.parametrize(
    "pipeline",
    [["--concat-dlr", "per-part", "--dlr-delay", "1.0,10.0", "--seed", "11"]],
    indirect=True,
)
def test_long_texts_go_as_concatenated_parts_and_are_delivered_when_every_part_is(
    pipeline: Pipeline,
) -> None:
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        short = json_of(
            client.post(
                "/v1/messages",
                json={"to": ["+4915150000009"], "text": "Kurz", "sender": "Kontor"},
                headers=key,
            ),
            201,
        )
        part_price = short["total_price"]
        # Every worker is up once the short message is delivered and shown: only then can the
        # long ones' receipts be watched coming in part by part (on a busy machine the
        # projections may otherwise start after every receipt is in).
        short_id = short["messages"][0]["message_id"]

        def short_delivered() -> bool:
            response = client.get(f"/v1/messages/{short_id}", headers=key)
            return response.status_code == 200 and response.json()["message"]["state"] == (
                "delivered"
            )

        pipeline.wait_for(short_delivered, what="the short message delivered")
        sent: dict[str, dict[str, Any]] = {}
        for number, text, encoding in (
            ("+4915150000001", GSM_200, "gsm7"),
            ("+4915150000002", UCS2_TEXT, "ucs2"),
        ):
            body = {"to": [number], "text": text, "sender": "Kontor"}
            message = json_of(client.post("/v1/messages", json=body, headers=key), 201)["messages"][
                0
            ]
            assert message["encoding"].replace("-", "").lower() == encoding
            assert message["parts"] >= 2
            assert message["price"] == message["parts"] * part_price
            sent[number] = message

        # Watch both messages while their parts' receipts come in one by one.
        seen: list[tuple[int, int, str]] = []

        def all_delivered() -> bool:
            states = []
            for message in sent.values():
                response = client.get(f"/v1/messages/{message['message_id']}", headers=key)
                if response.status_code == 404:  # not in the read model yet
                    return False
                detail = response.json()
                reports = [e for e in detail["history"] if e["event"] == "delivery_report"]
                state = detail["message"]["state"]
                seen.append((len(reports), message["parts"], state))
                states.append(state)
            return states == ["delivered", "delivered"]

        pipeline.wait_for(all_delivered, what="every part delivered")
        assert all(state != "delivered" for reports, parts, state in seen if reports < parts)
        assert any(0 < reports < parts for reports, parts, _ in seen), "no part-way observation"

        for number, message in sent.items():
            rows = pipeline.record.submits(number)
            assert len(rows) == message["parts"]
            assert {r.udh_total for r in rows} == {message["parts"]}
            assert sorted(r.udh_part for r in rows if r.udh_part) == list(
                range(1, message["parts"] + 1)
            )
            assert len({r.udh_ref for r in rows}) == 1
            detail = json_of(client.get(f"/v1/messages/{message['message_id']}", headers=key))
            reports = [e["details"] for e in detail["history"] if e["event"] == "delivery_report"]
            assert sorted(r["part"] for r in reports) == list(range(1, message["parts"] + 1))
            assert {r["carrier_id"] for r in reports} == set(detail["message"]["carrier_ids"])
        total = part_price + sum(m["price"] for m in sent.values())
        balance_when(pipeline, client, key, lambda b: b["spent"] == total and b["held"] == 0)


def test_an_idempotency_key_returns_the_first_send_and_refuses_another_body(
    pipeline: Pipeline,
) -> None:
    body = {"to": ["+4915160000001"], "text": "Ihr Code: 4711", "sender": "Kontor"}
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        retry = key | {"Idempotency-Key": "otp-4711"}
        first = json_of(client.post("/v1/messages", json=body, headers=retry), 201)
        again = json_of(client.post("/v1/messages", json=body, headers=retry), 200)
        assert again["repeated"] is True
        assert again["send_id"] == first["send_id"]
        assert again["messages"] == first["messages"]
        assert again["total_price"] == first["total_price"]
        other = client.post("/v1/messages", json=body | {"text": "Ihr Code: 0815"}, headers=retry)
        assert other.status_code == 422
        assert other.json()["type"].endswith("/idempotency-key-reused")

        message_when(pipeline, client, key, first["messages"][0]["message_id"])
        price = first["total_price"]
        balance_when(pipeline, client, key, lambda b: b["spent"] == price and b["held"] == 0)
        listed = json_of(client.get("/v1/messages", headers=key))
        assert [m["message_id"] for m in listed["messages"]] == [first["messages"][0]["message_id"]]
    assert pipeline.record.count_submits() == 1


def test_two_simultaneous_requests_with_one_idempotency_key_make_one_send(
    pipeline: Pipeline,
) -> None:
    body = {"to": ["+4915160000004"], "text": "Ihr Code: 1111", "sender": "Kontor"}
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        retry = key | {"Idempotency-Key": "otp-1111"}
        with ThreadPoolExecutor(2) as pool:
            answers = list(
                pool.map(lambda _: client.post("/v1/messages", json=body, headers=retry), range(2))
            )
        assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
        first, second = (a.json() for a in answers)
        assert first["messages"] == second["messages"]
        message_when(pipeline, client, key, first["messages"][0]["message_id"])
        price = first["total_price"]
        balance_when(pipeline, client, key, lambda b: b["spent"] == price and b["held"] == 0)
    assert pipeline.record.count_submits() == 1


def test_a_repeated_scheduled_single_send_returns_the_same_messages(pipeline: Pipeline) -> None:
    body = {
        "to": ["+4915160000002", "+4915160000003"],
        "text": "Erinnerung",
        "sender": "Kontor",
        "send_at": tomorrow(),
    }
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        retry = key | {"Idempotency-Key": "reminder-1"}
        first = json_of(client.post("/v1/messages", json=body, headers=retry), 201)
        assert first["state"] == "scheduled"
        assert len(first["messages"]) == 2
        again = json_of(client.post("/v1/messages", json=body, headers=retry), 200)
        assert again["messages"] == first["messages"]
        assert again["send_at"] == first["send_at"]
