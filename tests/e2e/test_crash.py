"""Crash test: a campaign runs while the relay, the dispatcher, the carrier sender and the DLR
ingest are SIGKILLed at random moments (fixed seed, 20 rounds), and PostgreSQL and NATS are
restarted once each. Afterwards no message is lost, none was submitted twice unless the
uncertainty was recorded, none was charged twice, and the trial balance is zero."""

from __future__ import annotations

import random
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from adapters.embedded import ensure_database
from kontor.stack import Pipeline
from settings import Settings
from tests.e2e.test_send_pipeline import campaign_body, customer, headers_of
from tests.support.servers import TEST_VAR, RunningServer, boot_nats, boot_postgres

VICTIMS = ("relay", "dispatcher", "carrier", "ingest")
FINAL = {"delivered", "failed", "rejected", "cancelled"}
RECIPIENTS = 3_000
ROUNDS = 20


@pytest.fixture
def servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    place = TEST_VAR / f"crash-{secrets.token_hex(4)}"
    postgres = boot_postgres(place / "postgres" / "data")
    nats = boot_nats(place / "nats")
    try:
        yield postgres, nats
    finally:
        nats.stop()
        postgres.stop()
        shutil.rmtree(place, ignore_errors=True)


def test_no_message_is_lost_duplicated_or_charged_twice_through_crashes(
    settings_for_tests: Settings, servers: tuple[RunningServer, RunningServer], tmp_path: Path
) -> None:
    postgres, nats = servers
    settings = replace(
        settings_for_tests,
        database_url=ensure_database(postgres.url, "kontor"),
        nats_url=nats.url,
        nats_prefix="crash",
    )
    sim_args = ["--dlr-delay", "0.05,0.5", "--response-delay", "0.1,0.4"]
    pipeline = Pipeline(settings, tmp_path / "pipeline", sim_args, tps=120)
    stop = threading.Event()

    def supervise() -> None:  # what kontor up does for a crashed child
        while not stop.wait(0.5):
            pipeline.revive()

    watcher = threading.Thread(target=supervise, daemon=True)
    try:
        pipeline.start_all()
        watcher.start()
        with pipeline.client() as client:
            key = customer(client, pipeline)
            started = client.post(
                "/v1/campaigns", json=campaign_body(RECIPIENTS), headers=headers_of(key)
            )
            assert started.status_code == 202, started.text
            campaign = started.json()
            chaos(pipeline, postgres, nats)
            final = wait_until_done(pipeline, client, key, campaign["campaign_id"])
        check_exactly_once(pipeline, settings, campaign, final)
    finally:
        stop.set()
        pipeline.stop()


def working(pipeline: Pipeline, timeout: float = 60) -> None:
    """Wait until the SMSC received new submits: every victim is up and busy again, so the
    next kill meets work in flight (or the campaign is sent)."""
    before = pipeline.record.count_submits()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and before < RECIPIENTS:
        if pipeline.record.count_submits() >= before + 20:
            return
        time.sleep(0.1)


def chaos(pipeline: Pipeline, postgres: RunningServer, nats: RunningServer) -> None:
    rng = random.Random(20261125)
    for round_ in range(ROUNDS):
        working(pipeline)
        time.sleep(rng.uniform(0.0, 0.4))
        if round_ == 7:
            postgres.stop()
            time.sleep(rng.uniform(0.5, 1.5))
            postgres.start_again()
            continue
        if round_ == 14:
            nats.stop()
            time.sleep(rng.uniform(0.5, 1.5))
            nats.start_again()
            continue
        victim = rng.choice(VICTIMS)
        pipeline.kill(victim)
        time.sleep(rng.uniform(0.05, 0.8))
        pipeline.start(victim)


def wait_until_done(pipeline: Pipeline, client: Any, key: dict[str, str], campaign_id: str) -> Any:
    def done() -> Any:
        try:
            response = client.get(f"/v1/campaigns/{campaign_id}", headers=headers_of(key))
        except Exception:  # noqa: BLE001 - the API may be between database connections
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        finished = sum(n for state, n in body["counts"].items() if state in FINAL)
        return body if finished == RECIPIENTS and body["state"] == "completed" else None

    return pipeline.wait_for(done, timeout=600, what="the campaign to finish after the chaos")


def check_exactly_once(
    pipeline: Pipeline, settings: Settings, campaign: dict[str, Any], final: dict[str, Any]
) -> None:
    assert sum(final["counts"].values()) == RECIPIENTS  # nothing lost
    with psycopg.connect(str(settings.database_url)) as conn:
        rows = conn.execute(
            "SELECT state, price, uncertain, number_hash FROM msg_messages WHERE send_id = %s",
            (campaign["campaign_id"],),
        ).fetchall()
    charged = sum(price for state, price, _, _ in rows if state in ("delivered", "failed"))
    assert final["cost_so_far"] == charged  # captured exactly once per accepted message
    uncertain = sum(1 for _, _, flag, _ in rows if flag)
    duplicates = pipeline.record.duplicates()
    extra = sum(d.count - 1 for d in duplicates)
    assert extra <= uncertain, f"{extra} extra submits but only {uncertain} recorded uncertain"
    assert pipeline.record.count_submits() >= RECIPIENTS
    print(  # the run's figures, for whoever reads the test log
        f"crash test: {RECIPIENTS} messages, {pipeline.record.count_submits()} submits, "
        f"{extra} repeated (uncertain: {uncertain}), counts {final['counts']}"
    )
    with pipeline.client() as client:
        finance = {"Authorization": f"Bearer {settings.finance_api_key}"}

        def balanced() -> Any:
            trial = client.get("/v1/finance/trial-balance", headers=finance).json()
            return trial if trial["balanced"] and trial["total_debit"] > 0 else None

        pipeline.wait_for(balanced, what="a balanced trial balance")
