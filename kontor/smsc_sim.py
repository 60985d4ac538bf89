"""``kontor smsc-sim``: run the SMSC simulator as a process of its own.

It prints one JSON line to stdout once it listens (``{"ready": true, "host", "port", "record",
"scenarios", "pid"}``), logs to stderr, and on SIGTERM or SIGINT stops listening, closes its
connections and commits its record before it exits 0. ``--port 0`` picks a free port.

    kontor smsc-sim --port 2775 --record var/smsc.sqlite --scenario throttle --throttle-tps 200
    kontor smsc-sim --config sim.toml --seed 7        # TOML keys are the option names below
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.gcpolicy import settle
from adapters.smsc.config import PRESETS, SimConfig, SimConfigError, build_config
from adapters.smsc.record import RecordWriter
from adapters.smsc.server import Simulator
from kontor.logs import configure_logging
from settings import Settings


def _pair(text: str) -> tuple[float, float]:
    low, _, high = text.partition(",")
    return float(low), float(high or low)


def _account(text: str) -> tuple[str, str]:
    system_id, sep, password = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected SYSTEM_ID:PASSWORD")
    return system_id, password


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kontor smsc-sim", description="SMPP 3.4 SMSC simulator")
    add = p.add_argument
    add("--list-scenarios", action="store_true", help="print the named scenarios and exit")
    add("--scenario", action="append", choices=sorted(PRESETS), help="preset (repeatable)")
    add("--config", type=Path, help="TOML file with option names as keys and `scenarios`")
    add("--host")
    add("--port", type=int, help="0: a free port (default 2775)")
    add("--account", dest="accounts", type=_account, action="append", help="ID:PASSWORD")
    add("--record", type=Path, help="SQLite file of accepted submits (created)")
    add("--seed", type=int)
    add("--response-delay", type=_pair, metavar="MIN,MAX", help="seconds before submit_sm_resp")
    add("--dlr-delay", type=_pair, metavar="MIN,MAX", help="seconds before the receipt")
    add("--dlr-before-response", type=float, metavar="SHARE")
    add("--throttle-tps", type=float, help="answer 0x58 above this many submits/s")
    add("--reject-prefix", dest="reject_prefixes", action="append", help="refuse destinations")
    add("--reject-status", type=lambda v: int(v, 0), help="status for them (default 0x0B)")
    add("--queue-full", type=float, metavar="SHARE", help="answer 0x14 to this share")
    add("--undeliverable", type=float, metavar="SHARE", help="receipt UNDELIV for this share")
    add("--undeliverable-error", type=int, help="err code of those receipts")
    add("--disconnect-every", type=int, metavar="N", help="drop the link after every Nth submit")
    add("--no-response", type=float, metavar="SHARE", help="accept but never answer this share")
    add("--mo-share", type=float, metavar="SHARE", help="recipients that reply")
    add("--mo-text", help='their reply (default "STOP")')
    add("--mo-delay", type=_pair, metavar="MIN,MAX")
    add("--mo-parts", type=int, metavar="N", help="deliver_sm each reply comes in")
    add("--mo-concat", choices=["udh", "udh16", "sar"], help="how its parts say so")
    add("--mo-order", choices=["in-order", "reversed"], help="the order its parts come in")
    add("--mo-missing", type=float, metavar="SHARE", help="replies in parts missing one")
    add("--dlr-form", choices=["tlv+text", "text"])
    add("--id-format", choices=["decimal", "hex"], help="ids in submit_sm_resp and TLVs")
    add("--dlr-id-format", choices=["decimal", "hex"], help="id in the receipt text")
    add("--ids-restart", action="store_const", const=True, help="ids start again at each start")
    add("--dlr-seconds", action="store_const", const=True, help="12-digit receipt dates")
    add("--concat-dlr", choices=["per-part", "last-part"])
    add("--deliver-window", type=int)
    add("--deliver-timeout", type=float)
    add("--redeliver-after", type=float)
    return p


def config_from_args(argv: list[str]) -> tuple[SimConfig | None, argparse.Namespace]:
    args = build_parser().parse_args(argv)
    if args.list_scenarios:
        return None, args
    fields = set(SimConfig.__dataclass_fields__)
    overrides: dict[str, Any] = {
        k: v for k, v in vars(args).items() if k in fields and v is not None
    }
    return build_config(tuple(args.scenario or ()), args.config, overrides), args


def main(argv: list[str], settings: Settings) -> int:
    try:
        config, _ = config_from_args(argv)
    except (SimConfigError, OSError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        print(f"kontor smsc-sim: {exc}")
        return 2
    if config is None:
        for name, preset in PRESETS.items():
            print(f"{name}: {preset or 'defaults'}")
        return 0
    configure_logging(settings.log_level, json=settings.log_json, process="smsc-sim")
    return asyncio.run(serve(config))


QUIET_SECONDS = 1.0
"""The simulator counts as quiet after this long without a submit_sm."""
FULL_COLLECTION_AT_MOST = 600.0
"""Seconds a full collection may wait for a quiet moment under constant load."""


async def quiet_full_collections(
    last_submit: Callable[[], float],
    *,
    check_every: float = 1.0,
    quiet: float = QUIET_SECONDS,
    at_most: float = FULL_COLLECTION_AT_MOST,
) -> None:
    """Run Python's full (oldest-generation) garbage collection when the simulator is quiet,
    not automatically.

    A full pass visits everything alive, and during a campaign that is the receipts still owed
    to the clients: thousands of them. Automatic full passes came every few seconds and
    stopped the event loop for 100-300 ms each, so every bind's submit_sm waited that long
    (a carrier's SMSC does not pause like that). The young generations, which hold most
    garbage, are still collected automatically; a full pass runs once the submits pause (after
    ``quiet`` seconds without one), or after ``at_most`` seconds of constant load."""
    loop = asyncio.get_running_loop()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000_000)  # never reached: no automatic full pass
    collected = loop.time()
    try:
        while True:
            await asyncio.sleep(check_every)
            now = loop.time()
            if now - last_submit() >= quiet or now - collected >= at_most:
                gc.collect()
                collected = now
    finally:
        gc.set_threshold(young, middle, full)


async def serve(config: SimConfig) -> int:
    simulator = Simulator(config, RecordWriter(config.record))
    settle()  # young collections less often (adapters/gcpolicy.py); full ones wait, see above
    collector = asyncio.create_task(quiet_full_collections(lambda: simulator.last_submit))
    port = await simulator.start()
    ready = {
        "ready": True,
        "host": config.host,
        "port": port,
        "record": str(config.record.resolve()),
        "scenarios": list(config.scenarios),
        "pid": os.getpid(),
    }
    print(json.dumps(ready), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await simulator.stop()
    collector.cancel()
    return 0
