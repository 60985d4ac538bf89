"""Exactly once toward the carrier: each experiment of the exactly-once issue's table, on a stack
of its own (``kontor.chaos``), and ``kontor up`` stopped mid-campaign (SIGTERM, and the
supervisor SIGKILLed) and started again.

What must hold in every one: no message lost, none charged twice, the trial balance balanced,
and no message submitted twice unless its first answer was lost and it is recorded uncertain.
Where nothing can lose an answer (slow answers, the database or NATS away, other workers killed,
throttling, receipts before answers) nothing is uncertain either; where something can (a sender
killed, a link dropped, a submit never answered), what is recorded uncertain but reached the
carrier only once is bounded by the window at each harm (the platform cannot know more)."""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from adapters.smsc.reader import SmscRecord
from kontor.chaos import EXPERIMENTS, FINAL, Figures, numbers_for, run_experiment
from kontor.samples import registration
from settings import Settings
from tests.support.platform import RunningPlatform
from tests.support.servers import TEST_VAR, unique_name

MESSAGES = 1200
WINDOW = 64
"""The simulator's bind window (``adapters.carriers.simulator_carriers``): what can be on the
wire of one bind at a harm."""
WITHOUT_DOUBT = {
    "slow answers (1.0-1.5 s)",
    "postgres fast shutdown",
    "postgres killed",
    "nats killed",
    "other workers killed",
    "throttling",
    "receipts before answers",
}


def check(figures: Figures, harms: int) -> None:
    assert figures.lost == 0, figures
    assert figures.unrecorded_repeats == 0, figures
    assert figures.repeated_submits <= figures.uncertain, figures
    assert figures.charged == figures.captured_prices, figures
    assert figures.trial_balance_balanced, figures
    assert figures.over_flagged <= WINDOW * harms, figures


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_message_goes_once_or_is_recorded_uncertain(
    name: str, settings_for_tests: Settings
) -> None:
    sim_args, harm = EXPERIMENTS[name]
    workdir = TEST_VAR / unique_name("chaos-")
    figures = run_experiment(
        name,
        workdir,
        settings_for_tests,
        messages=MESSAGES,
        harm=harm,
        sim_args=sim_args,
        timeout=300,  # a campaign that hangs is reported with its figures and logs (workdir)
    )
    print("exactly-once:", json.dumps(figures.as_dict()))  # the figures, for whoever reads the log
    if name in WITHOUT_DOUBT:
        assert (figures.uncertain, figures.repeated_submits) == (0, 0), figures
    # Links dropped after every 100th submit, 1 % never answered: one harm per 100 messages.
    dropped = MESSAGES // 100 if name in ("disconnects", "no response (1 %)") else 0
    check(figures, figures.sender_kills + dropped)


# -- kontor up stopped mid-campaign ----------------------------------------------------------------


@pytest.fixture
def var_dir() -> Iterator[Path]:
    path = TEST_VAR / unique_name("up-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def start(var_dir: Path) -> RunningPlatform:
    platform = RunningPlatform(
        var_dir, extra_env={"KONTOR_SMSC_SIM_ARGS": "--response-delay 0.1,0.3"}
    )
    platform.wait_up()
    return platform


def api(platform: RunningPlatform) -> httpx.Client:
    return httpx.Client(base_url=str(platform.state["api"]), timeout=30)


def campaign(platform: RunningPlatform, var_dir: Path, numbers: list[str]) -> tuple[str, str]:
    admin = json.loads((var_dir / "secrets.json").read_text())["admin_api_key"]
    with api(platform) as client:
        body = registration(f"eva{secrets.token_hex(4)}")
        account = client.post("/v1/accounts", json=body).json()
        topup = client.post(
            f"/v1/admin/accounts/{account['account_id']}/topups",
            json={"net": 100_000_000, "method": "bank_transfer", "reference": "up-1"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert topup.status_code == 201, topup.text
        recipients = [{"number": n} for n in numbers]
        started = client.post(
            "/v1/campaigns",
            json={"text": "Hallo!", "sender": "Shop", "recipients": recipients},
            headers={"Authorization": f"Bearer {account['api_key']}"},
        )
        assert started.status_code == 202, started.text
        return str(started.json()["campaign_id"]), str(account["api_key"])


def submits(var_dir: Path) -> int:
    path = var_dir / "smsc" / "record.sqlite"
    if not path.exists():
        return 0
    with SmscRecord(path) as record:
        return record.count_submits()


def wait_for_submits(var_dir: Path, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while submits(var_dir) < at_least:
        assert time.monotonic() < deadline, "the campaign did not get going"
        time.sleep(0.1)


def finished(platform: RunningPlatform, campaign_id: str, key: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    last: Any = None
    while time.monotonic() < deadline:
        try:
            with api(platform) as client:
                last = client.get(
                    f"/v1/campaigns/{campaign_id}", headers={"Authorization": f"Bearer {key}"}
                ).json()
            done = sum(n for state, n in last["counts"].items() if state in FINAL)
            if last["state"] == "completed" and done == last["recipients"]:
                return dict(last)
        except (httpx.HTTPError, KeyError):
            pass
        time.sleep(1.0)
    raise AssertionError(f"the campaign did not finish after the restart: {last}")


def repeats_and_uncertain(
    var_dir: Path, platform: RunningPlatform, campaign_id: str
) -> tuple[int, int]:
    with SmscRecord(var_dir / "smsc" / "record.sqlite") as record:
        repeated = sum(d.count - 1 for d in record.duplicates())
    with psycopg.connect(str(platform.state["database_url"])) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE uncertain) FROM msg_messages WHERE send_id = %s",
            (campaign_id,),
        ).fetchone()
    return repeated, int(row[0]) if row else 0


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_kontor_up_stopped_mid_campaign_and_started_again_sends_each_message_once(
    var_dir: Path, stop: signal.Signals
) -> None:
    numbers = numbers_for(3000)
    platform = start(var_dir)
    try:
        campaign_id, key = campaign(platform, var_dir, numbers)
        wait_for_submits(var_dir, 600)
        platform.stop(stop)  # SIGTERM: a user's Ctrl-C; SIGKILL: the supervisor dies
    finally:
        platform.stop(signal.SIGKILL)
    again = start(var_dir)
    try:
        final = finished(again, campaign_id, key)
        repeated, uncertain = repeats_and_uncertain(var_dir, again, campaign_id)
    finally:
        again.stop(signal.SIGTERM)
    assert sum(final["counts"].values()) == len(numbers)
    assert submits(var_dir) == len(numbers) + repeated
    assert repeated <= uncertain
    if stop is signal.SIGTERM:  # a graceful stop drains: nothing is in doubt
        assert (repeated, uncertain) == (0, 0)
