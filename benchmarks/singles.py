"""``kontor bench singles --concurrency C --accounts A --seconds T --json``: transactional
traffic (codes, alerts, reminders) at volume.

The whole platform runs as processes (as in ``kontor bench pipeline``). ``C`` clients post
``POST /v1/messages`` with one recipient each, as fast as they are answered, for ``T`` seconds,
spread over ``A`` accounts (client ``i`` sends for account ``i mod A``). Printed:

- ``accepted_per_s``: 201 answers per second of the run;
- ``api_ms``: the request until its 201; ``submit_ms``: the request until the SMSC simulator
  recorded the message's submit_sm (percentiles of each);
- ``errors``: answers other than 201, by status (and ``failed_requests``, requests with no
  answer at all); ``not_submitted``: accepted but not at the SMSC 30 s after the run;
  ``duplicates``: submitted twice;
- ``python_loop_ms``: this machine's speed right after the run (see ``benchmarks.pipeline``).

The clients share one asyncio loop in this process: on a 2-core machine they take part of a
core from the platform they measure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks.pipeline import account, python_loop_ms
from benchmarks.support import bench_settings, percentiles
from kontor.stack import Pipeline
from settings import Settings


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench singles")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--tps", type=float, default=6000, help="the bind's parts per second")
    args = parser.parse_args(argv)
    if args.concurrency < 1 or args.accounts < 1 or args.seconds <= 0:
        parser.error("--concurrency and --accounts must be at least 1, --seconds above 0")
    with bench_settings(settings) as s:
        result = run(s, args)
    print(json.dumps(result, indent=2))
    return 0


@dataclass
class Calls:
    """Each accepted message's number, when it was requested and when it was answered."""

    accepted: dict[str, tuple[float, float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    failed: int = 0


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    workdir = settings.resolved_var_dir / "bench" / f"singles-{secrets.token_hex(3)}"
    pipeline = Pipeline(settings, workdir, ["--dlr-delay", "0.05,0.3", "--seed", "1"], tps=args.tps)
    try:
        pipeline.start_all()
        with pipeline.client() as client:
            accounts = [account(client, pipeline) for _ in range(args.accounts)]
        time.sleep(3)  # the workers' first connections, JetStream consumers, SMPP binds
        calls = Calls()
        started = time.time()
        asyncio.run(load(pipeline.base_url, accounts, args.concurrency, args.seconds, calls))
        elapsed = time.time() - started
        submitted = wait_submitted(pipeline, calls, timeout=30)
        api = [(answered - called) * 1000 for called, answered in calls.accepted.values()]
        to_submit = [
            (submitted[number] - calls.accepted[number][0]) * 1000
            for number in calls.accepted
            if number in submitted
        ]
        return {
            "benchmark": "singles",
            "concurrency": args.concurrency,
            "accounts": args.accounts,
            "seconds": round(elapsed, 2),
            "accepted": len(calls.accepted),
            "accepted_per_s": round(len(calls.accepted) / elapsed, 1),
            "api_ms": percentiles(api) if api else None,
            "submit_ms": percentiles(to_submit) if to_submit else None,
            "errors": calls.errors,
            "failed_requests": calls.failed,
            "not_submitted": len(calls.accepted) - len(to_submit),
            "duplicates": sum(d.count - 1 for d in pipeline.record.duplicates()),
            "python_loop_ms": python_loop_ms(),
        }
    finally:
        pipeline.stop()


async def load(
    base_url: str, accounts: list[dict[str, str]], concurrency: int, seconds: float, calls: Calls
) -> None:
    numbers = itertools.count()
    deadline = time.monotonic() + seconds
    # A client of its own per simulated caller: httpx's shared pool looks at every connection
    # for every request (O(connections) each), which at 50 connections made the load generator
    # the bottleneck of the measurement.
    one_connection = httpx.Limits(max_connections=1, max_keepalive_connections=1)

    async def one_client(headers: dict[str, str]) -> None:
        async with httpx.AsyncClient(
            base_url=base_url, timeout=60, limits=one_connection, headers=headers
        ) as client:
            while time.monotonic() < deadline:
                number = f"+49170{next(numbers):07d}"
                body = {"to": [number], "text": "Ihr Code: 4711", "sender": "Bank"}
                called = time.time()
                try:
                    answer = await client.post("/v1/messages", json=body)
                except httpx.HTTPError:
                    calls.failed += 1
                    continue
                if answer.status_code == 201:
                    calls.accepted[number[1:]] = (called, time.time())
                else:
                    status = str(answer.status_code)
                    calls.errors[status] = calls.errors.get(status, 0) + 1

    await asyncio.gather(*(one_client(accounts[i % len(accounts)]) for i in range(concurrency)))


def wait_submitted(pipeline: Pipeline, calls: Calls, timeout: float) -> dict[str, float]:
    """Destination -> when the SMSC recorded its first submit_sm, once every accepted message
    is there (or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    seen: dict[str, float] = {}
    while True:
        for row in pipeline.record.submits():
            seen.setdefault(row.destination_addr, row.received_at)
        if all(number in seen for number in calls.accepted) or time.monotonic() > deadline:
            return seen
        time.sleep(0.5)
