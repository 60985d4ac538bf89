"""``kontor bench chaos --rounds N --json``: random rounds of the exactly-once experiments.

Each round picks one of ``kontor.chaos.EXPERIMENTS`` (slow answers, PostgreSQL stopped or
killed, carrier senders killed, disconnects, unanswered submits, NATS killed, other workers
killed, throttling, receipts before answers), runs a campaign through a fresh stack while it
does its harm, and prints what the carrier received against what the platform recorded and
charged: lost messages, repeated submits (and how many of them were not recorded uncertain:
the promise is none), messages recorded uncertain and the submits actually in doubt, the
charge against the accepted messages' prices, the trial balance.
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
from dataclasses import replace
from typing import Any

from adapters.crypto import apikeys
from kontor.chaos import EXPERIMENTS, run_experiment
from settings import Settings


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench chaos")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--rounds", type=int, default=len(EXPERIMENTS))
    parser.add_argument("--messages", type=int, default=3000, help="per round")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument(
        "--experiment", action="append", choices=sorted(EXPERIMENTS), help="only these"
    )
    args = parser.parse_args(argv)
    pepper = secrets.token_hex(32)
    base = replace(
        settings,
        master_key=secrets.token_hex(32),
        api_key_pepper=pepper,
        admin_api_key=apikeys.generate(pepper.encode()).plaintext,
        finance_api_key=apikeys.generate(pepper.encode()).plaintext,
        registrations_per_hour=1_000_000,
        log_level="WARNING",
    )
    rng = random.Random(args.seed)
    names = args.experiment or sorted(EXPERIMENTS)
    if not args.experiment:
        names = [names[r % len(names)] for r in range(args.rounds)]
        rng.shuffle(names)
    rounds: list[dict[str, Any]] = []
    for n, name in enumerate(names[: args.rounds] if not args.experiment else names):
        sim_args, harm = EXPERIMENTS[name]
        figures = run_experiment(
            name,
            settings.resolved_var_dir / "bench" / f"chaos-{n}-{secrets.token_hex(3)}",
            base,
            messages=args.messages,
            harm=harm,
            sim_args=[*sim_args, "--seed", str(rng.randrange(10_000))],
            seed=n,
        )
        rounds.append(figures.as_dict())
        print(json.dumps(rounds[-1]), flush=True)
    totals = {
        key: sum(int(r[key]) for r in rounds)
        for key in ("messages", "repeated_submits", "unrecorded_repeats", "uncertain", "lost")
    }
    summary = {
        "benchmark": "chaos",
        "rounds": len(rounds),
        **totals,
        "double_charged_rounds": sum(1 for r in rounds if r["charged"] != r["captured_prices"]),
        "unbalanced_rounds": sum(1 for r in rounds if not r["trial_balance_balanced"]),
    }
    print(json.dumps(summary, indent=2))
    return 0
