"""A 10,000-recipient campaign through every real process: it finishes, and the money adds up."""

from __future__ import annotations

from typing import Any

import pytest

from domain.ledger.postings import LedgerAccount
from kontor.stack import Pipeline
from tests.e2e.test_send_pipeline import pipeline
from tests.support.sends import (
    balance_when,
    campaign_messages,
    campaign_settled,
    finance,
    json_of,
    new_customer,
)

__all__ = ["pipeline"]
N = 10_000
REVENUE_SMS = LedgerAccount.REVENUE_SMS.value
CREDIT_HELD = LedgerAccount.CREDIT_HELD.value


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "pipeline",
    [["--dlr-delay", "0.05,0.5", "--undeliverable", "0.02", "--seed", "5"]],
    indirect=True,
)
def test_a_10000_recipient_campaign_ends_final_with_exact_charges_and_a_balanced_ledger(
    pipeline: Pipeline,
) -> None:
    recipients = [{"number": f"+49170{i:07d}", "fields": {"vorname": "Kim"}} for i in range(N)]
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline, credit=20_000_000)
        campaign = json_of(
            client.post(
                "/v1/campaigns",
                json={"text": "Hallo {vorname}!", "sender": "Shop", "recipients": recipients},
                headers=key,
            ),
            202,
        )
        assert campaign["recipients"] == N

        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=600)
        assert final["state"] == "completed"
        assert set(final["counts"]) <= {"delivered", "failed"}
        assert final["counts"]["failed"] > 0  # undeliverable, yet charged
        assert sum(final["counts"].values()) == N
        rows = campaign_messages(client, key, campaign["campaign_id"])
        assert len({r["message_id"] for r in rows}) == N
        charged = sum(r["price"] for r in rows if r["state"] in ("delivered", "failed"))
        assert final["cost_so_far"] == charged == campaign["expected_cost"]
        balance_when(
            pipeline,
            client,
            key,
            lambda b: b["spent"] == charged and b["held"] == 0,
            "captures in the balance",
        )

        def sms_revenue_booked() -> Any:
            trial = json_of(client.get("/v1/finance/trial-balance", headers=finance(pipeline)))
            lines = {line["account"]: line for line in trial["lines"]}
            revenue = lines.get(REVENUE_SMS, {}).get("credit")
            return trial if revenue == charged else None

        trial = pipeline.wait_for(sms_revenue_booked, what="SMS revenue in the trial balance")
        assert trial["balanced"] is True
        assert trial["total_debit"] == trial["total_credit"] > charged
        held = [line for line in trial["lines"] if line["account"] == CREDIT_HELD]
        assert all(line["debit"] == line["credit"] == 0 for line in held)

    record = pipeline.record
    assert record.count_submits() == N
    assert record.duplicates() == []
