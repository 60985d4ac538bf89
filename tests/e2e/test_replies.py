"""Replies from the SMSC simulator through the real platform: the simulator answers a share
of the messages with STOP (its ``mo`` scenario); each reply the platform acknowledged is
correlated exactly once to the message it answers, shown in ``/v1/replies``, and puts the
handset on the account's opt-out list, so that the next campaign to the same numbers skips
exactly those."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontor.stack import Pipeline
from settings import Settings
from tests.e2e.test_send_pipeline import customer, headers_of

RECIPIENTS = 120


@pytest.fixture
def pipeline(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    prefix = f"r{secrets.token_hex(4)}"
    settings = replace(settings_for_tests, database_url=fresh_database_url, nats_prefix=prefix,
                       registrations_per_hour=10_000)  # fmt: skip
    sim = ["--scenario", "mo", "--mo-text", "STOP", "--dlr-delay", "0.05,0.3", "--seed", "5"]
    running = Pipeline(settings, tmp_path / "pipeline", sim)
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


def all_replies(client: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/replies", headers=headers, params=params).json()
        found += page["items"]
        if not (cursor := page["next_cursor"]):
            return found


def test_stop_replies_are_matched_once_each_and_opt_their_handsets_out(
    pipeline: Pipeline,
) -> None:
    sender = "49170" + str(secrets.randbelow(10**7)).zfill(7)
    numbers = [f"+4915120{n:06d}" for n in range(RECIPIENTS)]
    with pipeline.client() as client:
        key = customer(client, pipeline)
        headers = headers_of(key)
        campaign = client.post("/v1/campaigns", headers=headers, json={
            "text": "Ihr Termin morgen um 9 Uhr", "sender": sender,
            "recipients": [{"number": n} for n in numbers]})  # fmt: skip
        assert campaign.status_code == 202, campaign.text
        campaign_id = campaign.json()["campaign_id"]
        deadline, replied, shown = time.time() + 120, [], []
        while time.time() < deadline:
            with pipeline.record as record:
                replied = record.replied()
            shown = all_replies(client, headers)
            if replied and len(shown) == len(replied):
                break
            time.sleep(1)
        assert replied, "the simulator's mo scenario sent no reply"
        assert sorted(r["number"] for r in shown) == sorted("00" + n for n in replied)
        assert len({r["reply_id"] for r in shown}) == len(shown)  # each matched once
        assert all(r["stop"] and r["send_id"] == campaign_id for r in shown)
        assert all(r["message_id"] and r["rule"] == "number_and_sender" for r in shown)
        opted = client.get("/v1/opt-outs", headers=headers, params={"limit": 1000}).json()
        assert sorted(o["number"] for o in opted["items"]) == sorted(r["number"] for r in shown)
        again = client.post("/v1/campaigns", headers=headers, json={
            "text": "Erinnerung", "sender": sender,
            "recipients": [{"number": n} for n in numbers]})  # fmt: skip
        assert again.status_code == 202, again.text
        assert again.json()["skipped"] == {"opted_out": len({r["number"] for r in shown})}


@pytest.fixture
def multipart_pipeline(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    prefix = f"r{secrets.token_hex(4)}"
    settings = replace(settings_for_tests, database_url=fresh_database_url, nats_prefix=prefix,
                       registrations_per_hour=10_000, reply_part_timeout_seconds=2.0)  # fmt: skip
    sim = ["--scenario", "mo-multipart", "--mo-share", "0.25", "--mo-missing", "0.3",
           "--mo-text", "Bitte rufen Sie mich zurück, ich bin ab 14 Uhr im Büro erreichbar. ✓",
           "--dlr-delay", "0.05,0.3", "--seed", "11"]  # fmt: skip
    running = Pipeline(settings, tmp_path / "pipeline", sim)
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


def test_replies_in_parts_out_of_order_and_missing_one_are_joined_once_each(
    multipart_pipeline: Pipeline,
) -> None:
    """The simulator answers in three parts, last part first, and leaves one part out of
    some replies: each reply is shown once, whole where every part came, and otherwise, after
    the timeout, as what came, marked incomplete."""
    pipeline = multipart_pipeline
    text = "Bitte rufen Sie mich zurück, ich bin ab 14 Uhr im Büro erreichbar. ✓"
    sender = "49170" + str(secrets.randbelow(10**7)).zfill(7)
    numbers = [f"+4915121{n:06d}" for n in range(60)]
    with pipeline.client() as client:
        headers = headers_of(customer(client, pipeline))
        campaign = client.post("/v1/campaigns", headers=headers, json={
            "text": "Ihr Termin morgen um 9 Uhr", "sender": sender,
            "recipients": [{"number": n} for n in numbers]})  # fmt: skip
        assert campaign.status_code == 202, campaign.text
        deadline, parts, shown = time.time() + 120, {}, []
        while time.time() < deadline:
            with pipeline.record as record:
                parts = record.reply_parts()
            shown = all_replies(client, headers)
            if parts and len(shown) == len(parts):
                break
            time.sleep(1)
        assert parts, "the simulator sent no reply"
        assert sorted(r["number"] for r in shown) == sorted("00" + n for n in parts)
        whole = [n for n, got in parts.items() if len(got) == 3]
        assert whole, "expected whole replies"
        assert len(whole) < len(parts), "expected incomplete replies"
        for reply in shown:
            if reply["number"].removeprefix("00") in whole:
                assert (reply["text"], reply["incomplete"]) == (text, False)
            else:
                assert reply["incomplete"]
                assert "[…]" in reply["text"]
            assert reply["send_id"] == campaign.json()["campaign_id"]
            assert not reply["stop"]
