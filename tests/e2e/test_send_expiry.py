"""A message whose validity period passed before its turn is never sent: the carrier sender
records it as expired (red, nothing charged), its reservation is released or has expired, and
the send completes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kontor.stack import Pipeline
from settings import Settings
from tests.support.sends import (
    balance_when,
    campaign_messages,
    campaign_settled,
    json_of,
    message_when,
    new_customer,
)


@pytest.fixture
def no_validity(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    # A validity period of zero: every message is past it by the time a carrier sender has it.
    settings = replace(
        settings_for_tests,
        database_url=fresh_database_url,
        nats_prefix=f"p{secrets.token_hex(4)}",
        registrations_per_hour=10_000,
        message_validity_hours=0,
    )
    running = Pipeline(settings, tmp_path / "pipeline", ["--scenario", "happy"])
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


def test_messages_past_their_validity_are_never_sent_nor_charged(no_validity: Pipeline) -> None:
    pipeline = no_validity
    with pipeline.client() as client:
        _, key = new_customer(client, pipeline)
        single = json_of(
            client.post(
                "/v1/messages",
                json={"to": ["+4915211111111"], "text": "Ihr Code: 4711", "sender": "Kontor"},
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
                    "recipients": [{"number": f"+49152{i:08d}"} for i in range(12)],
                },
                headers=key,
            ),
            202,
        )
        expired = message_when(
            pipeline, client, key, single["messages"][0]["message_id"], frozenset({"rejected"})
        )
        assert expired["message"]["status_text"] == "validity period passed before submission"
        assert expired["message"]["colour"] == "red"
        assert [e["details"].get("outcome") for e in expired["history"][1:]] == ["expired"]

        final = campaign_settled(pipeline, client, key, campaign["campaign_id"], timeout=90)
        assert final["state"] == "completed"
        assert final["counts"] == {"rejected": 12}
        rows = campaign_messages(client, key, campaign["campaign_id"])
        assert {r["status_text"] for r in rows} == {"validity period passed before submission"}
        balance_when(pipeline, client, key, lambda b: b["spent"] == 0 and b["held"] == 0)

    assert pipeline.record.count_submits() == 0
