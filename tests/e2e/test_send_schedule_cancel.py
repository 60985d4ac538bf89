"""Sends in time: scheduled sends survive a restart of the processes that hold them, and a
campaign cancelled while it is sending stops, releasing what it did not send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.ledger.billing import BERLIN
from kontor.stack import Pipeline
from tests.e2e.test_send_pipeline import pipeline
from tests.support.sends import (
    balance_when,
    campaign_messages,
    campaign_settled,
    json_of,
    message_when,
    new_customer,
)

__all__ = ["pipeline"]


def test_scheduled_sends_are_delivered_once_after_the_expander_and_api_restart(
    pipeline: Pipeline,
) -> None:
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=12)
    recipients = [{"number": f"+49152{i:08d}"} for i in range(20)]
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        single = json_of(
            client.post(
                "/v1/messages",
                json={
                    "to": ["+4915299999999"],
                    "text": "Ihr Termin beginnt gleich",
                    "sender": "Praxis",
                    "send_at": due.astimezone(BERLIN).isoformat(),  # with offset
                },
                headers=key,
            ),
            201,
        )
        campaign = json_of(
            client.post(
                "/v1/campaigns",
                json={
                    "text": "Heute geöffnet",
                    "sender": "Praxis",
                    "recipients": recipients,
                    "send_at": due.astimezone(BERLIN).replace(tzinfo=None).isoformat(),  # local
                },
                headers=key,
            ),
            202,
        )
        for accepted in (single, campaign):
            assert accepted["state"] == "scheduled"
            assert datetime.fromisoformat(accepted["send_at"]) == due

    pipeline.kill("expander")
    pipeline.kill("api")
    assert datetime.now(UTC) < due, "the processes must go down before the send time"
    pipeline.wait_for(lambda: datetime.now(UTC) > due + timedelta(seconds=2), what="send time")
    assert pipeline.record.count_submits() == 0
    pipeline.start("api")
    pipeline.wait_ready()
    pipeline.start("expander")

    with pipeline.client() as client:
        delivered = message_when(
            pipeline, client, key, single["messages"][0]["message_id"], frozenset({"delivered"})
        )
        assert delivered["text"] == "Ihr Termin beginnt gleich"
        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=90)
        assert final["state"] == "completed"
        assert final["counts"] == {"delivered": 20}
        total = single["total_price"] + campaign["expected_cost"]
        balance_when(pipeline, client, key, lambda b: b["spent"] == total and b["held"] == 0)
    record = pipeline.record
    assert record.count_submits() == 21
    assert record.duplicates() == []
    assert min(row.received_at for row in record.submits()) >= due.timestamp()


@pytest.mark.parametrize(
    "pipeline", [["--throttle-tps", "5", "--dlr-delay", "0.05,0.2"]], indirect=True
)
def test_cancelling_a_sending_campaign_stops_it_and_returns_the_unsent_credit(
    pipeline: Pipeline,
) -> None:
    recipients = [{"number": f"+49160{i:07d}"} for i in range(60)]
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        before = balance_when(pipeline, client, key, lambda b: b["available"] > 0, "top-up")
        campaign = json_of(
            client.post(
                "/v1/campaigns",
                json={"text": "Sale!", "sender": "Shop", "recipients": recipients},
                headers=key,
            ),
            202,
        )
        path = f"/v1/campaigns/{campaign['campaign_id']}"
        pipeline.wait_for(lambda: pipeline.record.count_submits() >= 3, what="sending")
        cancelled = json_of(client.post(f"{path}/cancel", headers=key))
        assert cancelled["state"] == "cancelled"

        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=90)
        assert final["state"] == "cancelled"
        assert set(final["counts"]) <= {"delivered", "cancelled"}
        assert final["counts"].get("cancelled", 0) > 0
        assert sum(final["counts"].values()) == 60
        rows = campaign_messages(client, key, campaign["campaign_id"])
        sent_cost = sum(r["price"] for r in rows if r["state"] == "delivered")
        unsent = [
            json_of(client.get(f"/v1/messages/{r['message_id']}", headers=key))["to"]
            for r in rows
            if r["state"] == "cancelled"
        ]
        after = balance_when(
            pipeline,
            client,
            key,
            lambda b: b["held"] == 0 and b["spent"] == sent_cost,
            "release of the unsent messages",
        )
        assert after["available"] == before["available"] - sent_cost
        assert json_of(client.get(path, headers=key))["cost_so_far"] == sent_cost
        again = client.post(f"{path}/cancel", headers=key)
        assert again.status_code == 409
        assert again.json()["type"].endswith("/not-cancellable")

    record = pipeline.record
    submitted = {row.destination_addr for row in record.submits()}
    assert len(submitted) == final["counts"].get("delivered", 0) == record.count_submits()
    assert unsent
    assert all(number.startswith("0049") for number in unsent)
    assert not submitted & {number[2:] for number in unsent}  # 0049... -> 49...


@pytest.mark.parametrize("change", ["opt-out", "erasure"])
def test_a_number_opted_out_or_erased_before_a_scheduled_send_is_never_sent_to(
    pipeline: Pipeline, change: str
) -> None:
    due = datetime.now(UTC) + timedelta(seconds=6)
    stays, leaves = "+4915210000001", "+4915210000002"
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        campaign = json_of(
            client.post(
                "/v1/campaigns",
                json={
                    "text": "Morgen geöffnet",
                    "sender": "Shop",
                    "recipients": [{"number": stays}, {"number": leaves}],
                    "send_at": due.isoformat(),
                },
                headers=key,
            ),
            202,
        )
        if change == "opt-out":
            json_of(client.post("/v1/opt-outs", json={"number": leaves}, headers=key), 201)
        else:
            json_of(client.post("/v1/privacy/erasures", json={"number": leaves}, headers=key), 201)
        assert datetime.now(UTC) < due

        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=60)
        assert final["counts"] == {"delivered": 1, "cancelled": 1}
        price = campaign["expected_cost"] // 2
        assert final["cost_so_far"] == price
        balance_when(pipeline, client, key, lambda b: b["spent"] == price and b["held"] == 0)
    assert len(pipeline.record.submits(stays)) == 1
    assert pipeline.record.submits(leaves) == []
