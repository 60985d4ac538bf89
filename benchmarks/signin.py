"""``kontor bench signin --concurrency 20 --seconds 20 --json``: a sign-in storm.

A real ``kontor api`` process on the embedded PostgreSQL (no other process is needed).
``--concurrency`` accounts are registered; then as many clients sign in, each as one of their
owners, over and over (``POST /v1/sessions``, each an Argon2id verification of about 50 ms;
``--same-user``: all as one owner, whose sign-ins then also meet on its events), while one
more client
asks for the account with its API key (``GET /v1/account``) every ``--read-every`` seconds.
Printed: sign-ins per second and their latency, the other requests' latency (Argon2 runs in
the handlers' threads, so the event loop keeps answering), errors, ``python_loop_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import replace

import httpx

from benchmarks.pipeline import python_loop_ms
from benchmarks.support import api_server, bench_settings, percentiles
from kontor.samples import SAMPLE_PASSWORD, registration
from settings import Settings


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench signin")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--read-every", type=float, default=0.02)
    parser.add_argument("--same-user", action="store_true")
    args = parser.parse_args(argv)
    with bench_settings(replace(settings, registrations_per_hour=100_000)) as s:
        log = s.resolved_var_dir / "bench" / "signin-api.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with api_server(s, log) as url:
            result = asyncio.run(storm(url, args))
    result["python_loop_ms"] = python_loop_ms()
    print(json.dumps(result, indent=2))
    return 0


async def storm(url: str, args: argparse.Namespace) -> dict[str, object]:
    names = [f"storm{secrets.token_hex(4)}" for _ in range(args.concurrency)]
    if args.same_user:
        names = names[:1]
    async with httpx.AsyncClient(base_url=url, timeout=30) as setup:
        for name in names:
            registered = await setup.post("/v1/accounts", json=registration(name))
            registered.raise_for_status()
    key = {"Authorization": f"Bearer {registered.json()['api_key']}"}
    sign_ins: list[float] = []
    reads: list[float] = []
    errors: Counter[str] = Counter()
    deadline = time.monotonic() + args.seconds

    async def signer(username: str) -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = await client.post(
                    "/v1/sessions", json={"login": username, "password": SAMPLE_PASSWORD}
                )
                if answer.status_code == 201:
                    sign_ins.append((time.perf_counter() - started) * 1000)
                else:
                    errors[f"sign-in {answer.status_code}"] += 1
                client.cookies.clear()

    async def reader() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=key) as client:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                answer = await client.get("/v1/account")
                if answer.status_code == 200:
                    reads.append((time.perf_counter() - started) * 1000)
                else:
                    errors[f"read {answer.status_code}"] += 1
                await asyncio.sleep(args.read_every)

    started = time.monotonic()
    await asyncio.gather(
        reader(), *(signer(names[n % len(names)]) for n in range(args.concurrency))
    )
    elapsed = time.monotonic() - started
    return {
        "benchmark": "signin",
        "concurrency": args.concurrency,
        "users": len(names),
        "seconds": round(elapsed, 2),
        "sign_ins": len(sign_ins),
        "sign_ins_per_s": round(len(sign_ins) / elapsed, 1),
        "sign_in_ms": percentiles(sign_ins) if sign_ins else None,
        "other_requests": len(reads),
        "other_ms": percentiles(reads) if reads else None,
        "errors": dict(errors),
    }
