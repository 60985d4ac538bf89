"""Callbacks through the real platform, with the forwarder and the ingest killed in the
middle: the simulator answers a share of a campaign's messages (its ``mo`` scenario) while
the callbacks worker and the ingest are killed and started again; every reply the platform
acknowledged is matched exactly once and posted to the account's receiver at least once,
signed, under one ``Webhook-Id`` per reply, and every message's final status is posted too."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from kontor.stack import Pipeline
from settings import Settings
from tests.e2e.test_replies import all_replies, campaign_to, replying_pipeline
from tests.e2e.test_send_pipeline import customer, headers_of
from tests.support.receiver import Receiver, receiver

RECIPIENTS = 200


@pytest.fixture
def pipeline(
    settings_for_tests: Settings, fresh_database_url: str, tmp_path: Path
) -> Iterator[Pipeline]:
    sim = ["--scenario", "mo", "--mo-share", "0.3", "--mo-text", "Danke, bis morgen",
           "--mo-delay", "0.5,6", "--dlr-delay", "0.05,0.5", "--seed", "3"]  # fmt: skip
    with replying_pipeline(settings_for_tests, fresh_database_url, tmp_path, sim,
                           webhook_allowed_networks="127.0.0.0/8") as running:  # fmt: skip
        running.start("callbacks")
        yield running


@pytest.fixture
def http() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def test_replies_and_statuses_are_posted_through_crashes(
    pipeline: Pipeline, http: Receiver
) -> None:
    sender = "49174" + str(secrets.randbelow(10**7)).zfill(7)
    numbers = [f"+4915122{n:06d}" for n in range(RECIPIENTS)]
    with pipeline.client() as client:
        headers = headers_of(customer(client, pipeline))
        set_up = client.put("/v1/callbacks", headers=headers, json={
            "reply_url": http.url + "/ok", "status_url": http.url + "/flaky"})  # fmt: skip
        assert set_up.status_code == 200, set_up.text
        secret = client.post("/v1/callbacks/secret", headers=headers).json()["secret"]
        time.sleep(5.5)  # the followers read an account's callbacks anew after 5 s
        campaign_to(client, headers, sender, numbers)

        # Kills and restarts happen on this thread: a process started from another thread
        # would get SIGTERM when that thread ends (the pipeline's parent-death signal).
        plan = [(1.0, "callbacks"), (3.0, "ingest"), (5.0, "callbacks")]
        started = time.time()
        deadline, replied, shown, posted, statuses = started + 180, [], [], {}, set()
        while time.time() < deadline:
            while plan and time.time() - started >= plan[0][0]:
                _, victim = plan.pop(0)
                pipeline.kill(victim)
                time.sleep(0.5)
                pipeline.start(victim)
            with pipeline.record as record:
                replied = record.replied()
            shown = all_replies(client, headers)
            posted = {json.loads(r.body)["data"]["reply_id"]: r for r in http.on("/ok")}
            answered = http.on("/flaky")[http.flaky_failures :]  # the first ones got a 503
            statuses = {json.loads(r.body)["data"]["message_id"] for r in answered
                        if json.loads(r.body)["data"]["final"]}  # fmt: skip
            if (
                not plan and replied and len(shown) == len(replied)
                and set(posted) == {r["reply_id"] for r in shown}
                and len(statuses) == RECIPIENTS
            ):  # fmt: skip
                break
            time.sleep(0.5)
        assert replied, "the simulator's mo scenario sent no reply"
        assert len(shown) == len(replied)
        assert len({r["reply_id"] for r in shown}) == len(shown)  # each matched once
        assert set(posted) == {r["reply_id"] for r in shown}  # each posted at least once
        by_id: dict[str, set[str]] = {}
        for request in http.on("/ok"):
            by_id.setdefault(request.headers["Webhook-Id"], set()).add(
                json.loads(request.body)["data"]["reply_id"]
            )
            Webhook(secret).verify(request.body, request.headers)
        assert all(len(ids) == 1 for ids in by_id.values())  # one Webhook-Id per reply
        assert len(by_id) == len(shown)
        assert len(statuses) == RECIPIENTS
        flaky = client.get("/v1/callbacks/deliveries", headers=headers,
                           params={"state": "delivered", "limit": 500}).json()["items"]  # fmt: skip
        assert any(d["attempts"] > 1 for d in flaky)  # the receiver's 503s were retried
