"""Crash test: a campaign runs while the relay, the dispatcher, the carrier senders and the DLR
ingest are SIGKILLed at random moments (fixed seed, 20 rounds), and PostgreSQL and NATS are
restarted once each. Afterwards no message is lost, none was charged twice, the trial balance is
balanced, every repeated submit is of a message recorded uncertain, and what is recorded
uncertain but reached the carrier only once is no more than the window of each sender killed."""

from __future__ import annotations

import json
import random
import signal
import time

from kontor.chaos import ChaosStack, run_experiment
from settings import Settings
from tests.support.servers import TEST_VAR, unique_name

VICTIMS = ("relay", "dispatcher", "carrier", "carrier-2", "ingest")
RECIPIENTS = 3_000
ROUNDS = 20
WINDOW = 64


def chaos(stack: ChaosStack, n: int) -> None:
    rng = random.Random(20261125)
    for round_ in range(ROUNDS):
        stack.wait_for_submits(min(n, 20 + n * round_ // (ROUNDS + 4)), timeout=60)
        time.sleep(rng.uniform(0.0, 0.4))
        if round_ == 7:
            stack.postgres.stop(signal.SIGINT)
            time.sleep(rng.uniform(0.5, 1.5))
            stack.postgres.start()
            continue
        if round_ == 14:
            stack.nats.stop()
            time.sleep(rng.uniform(0.5, 1.5))
            stack.nats.start()
            continue
        victim = rng.choice(VICTIMS)
        if victim.startswith("carrier"):
            stack.kill_senders((victim,))
        else:
            stack.pipeline.kill(victim)
        time.sleep(rng.uniform(0.05, 0.8))
        stack.pipeline.start(victim)


def test_no_message_is_lost_duplicated_or_charged_twice_through_crashes(
    settings_for_tests: Settings,
) -> None:
    figures = run_experiment(
        "crash test",
        TEST_VAR / unique_name("crash-"),
        settings_for_tests,
        messages=RECIPIENTS,
        harm=chaos,
        sim_args=["--dlr-delay", "0.05,0.5", "--response-delay", "0.1,0.4"],
        tps=120,
    )
    print("crash test:", json.dumps(figures.as_dict()))  # the run's figures, for the log
    assert figures.lost == 0, figures
    assert figures.unrecorded_repeats == 0, figures
    assert figures.repeated_submits <= figures.uncertain, figures
    assert figures.over_flagged <= WINDOW * figures.sender_kills, figures
    assert figures.charged == figures.captured_prices, figures
    assert figures.trial_balance_balanced, figures
    assert figures.submits >= RECIPIENTS
