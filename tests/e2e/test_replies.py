"""Replies from the SMSC simulator through the real platform: the simulator answers a share
of the messages with STOP (its ``mo`` scenario); each reply the platform acknowledged is
correlated exactly once to the message it answers, shown in ``/v1/replies``, and puts the
handset on the account's opt-out list, so that the next campaign to the same numbers skips
exactly those."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable, Iterator, Sized
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.smsc.reader import SmscRecord
from kontor.stack import Pipeline
from settings import Settings
from tests.e2e.test_send_pipeline import customer, headers_of

RECIPIENTS = 120
MULTIPART_TEXT = "Bitte rufen Sie mich zurück, ich bin ab 14 Uhr im Büro erreichbar. ✓"


@contextlib.contextmanager
def replying_pipeline(
    settings: Settings, database_url: str, workdir: Path, sim: list[str], **changes: Any
) -> Iterator[Pipeline]:
    """The platform on a database and NATS prefix of its own, the simulator started with
    ``sim``, the settings with ``changes``."""
    prefix = f"r{secrets.token_hex(4)}"
    settings = replace(settings, database_url=database_url, nats_prefix=prefix,
                       registrations_per_hour=10_000, **changes)  # fmt: skip
    running = Pipeline(settings, workdir / "pipeline", sim)
    try:
        running.start_all()
        yield running
    finally:
        running.stop()


@pytest.fixture
def pipeline(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    sim = ["--scenario", "mo", "--mo-text", "STOP", "--dlr-delay", "0.05,0.3", "--seed", "5"]
    with replying_pipeline(settings_for_tests, fresh_database_url, tmp_path, sim) as running:
        yield running


def campaign_to(
    client: httpx.Client, headers: dict[str, str], sender: str, numbers: list[str]
) -> str:
    campaign = client.post("/v1/campaigns", headers=headers, json={
        "text": "Ihr Termin morgen um 9 Uhr", "sender": sender,
        "recipients": [{"number": n} for n in numbers]})  # fmt: skip
    assert campaign.status_code == 202, campaign.text
    campaign_id: str = campaign.json()["campaign_id"]
    return campaign_id


def until_shown(
    pipeline: Pipeline, client: httpx.Client, headers: dict[str, str],
    replied: Callable[[SmscRecord], Sized],
) -> tuple[Any, list[dict[str, Any]]]:  # fmt: skip
    """Until the account shows as many replies as ``replied`` reads off the simulator's record
    (two minutes at most): what it read, and the replies shown."""
    deadline, found, shown = time.time() + 120, None, []
    while time.time() < deadline:
        with pipeline.record as record:
            found = replied(record)
        shown = all_replies(client, headers)
        if found and len(shown) == len(found):
            break
        time.sleep(1)
    return found, shown


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
        campaign_id = campaign_to(client, headers, sender, numbers)
        replied, shown = until_shown(pipeline, client, headers, SmscRecord.replied)
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
    sim = ["--scenario", "mo-multipart", "--mo-share", "0.25", "--mo-missing", "0.3",
           "--mo-text", MULTIPART_TEXT, "--dlr-delay", "0.05,0.3", "--seed", "11"]  # fmt: skip
    with replying_pipeline(settings_for_tests, fresh_database_url, tmp_path, sim,
                           reply_part_timeout_seconds=2.0) as running:  # fmt: skip
        yield running


def test_replies_in_parts_out_of_order_and_missing_one_are_joined_once_each(
    multipart_pipeline: Pipeline,
) -> None:
    """The simulator answers in three parts, last part first, and leaves one part out of
    some replies: each reply is shown once, whole where every part came, and otherwise, after
    the timeout, as what came, marked incomplete."""
    pipeline, text = multipart_pipeline, MULTIPART_TEXT
    sender = "49170" + str(secrets.randbelow(10**7)).zfill(7)
    numbers = [f"+4915121{n:06d}" for n in range(60)]
    with pipeline.client() as client:
        headers = headers_of(customer(client, pipeline))
        campaign_id = campaign_to(client, headers, sender, numbers)
        parts, shown = until_shown(pipeline, client, headers, SmscRecord.reply_parts)
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
            assert reply["send_id"] == campaign_id
            assert not reply["stop"]
