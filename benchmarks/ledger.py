"""``kontor bench ledger --json``: the credit ledger on PostgreSQL.

- reservations opened per second (one per send; wallet and reservation saved together), with
  several threads reserving against different accounts;
- message captures per second, batched as the carrier sender records them (500 a batch), over
  several concurrent sends;
- balance read latency through the HTTP API (a real ``kontor api`` process, keep-alive client).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import httpx

from adapters.backend import open_backend
from benchmarks.support import Stopwatch, api_server, bench_settings, percentiles
from domain.ledger.billing import Billing
from domain.ledger.lots import PaymentMethod
from kontor.samples import registration
from settings import Settings
from workers.projections import ledger_runner

PRICE = 790


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench ledger")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--reservations", type=int, default=2_000)
    parser.add_argument("--messages", type=int, default=200_000, help="messages to capture")
    parser.add_argument("--sends", type=int, default=4, help="concurrent sends being captured")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reads", type=int, default=3_000)
    args = parser.parse_args(argv)
    with bench_settings(settings) as s:
        result = run(s, args)
    print(json.dumps(result, indent=2))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> dict[str, object]:
    backend = open_backend(settings, pool_size=args.threads + 2)
    ledger = backend.ledger
    now = datetime.now(UTC)
    accounts = [uuid4() for _ in range(args.threads * 4)]
    for account in accounts:
        ledger.open_wallet(account, Billing.PREPAID)
        ledger.purchase(
            account,
            net=10**12,
            vat=0,
            method=PaymentMethod.BANK_TRANSFER,
            reference="bench",
            package="bench",
            actor="bench",
            now=now,
            expires_at=None,
        )

    def reserve(n: int) -> UUID:
        return ledger.reserve(
            accounts[n % len(accounts)],
            send_id=uuid4(),
            amount=PRICE,
            parts=1,
            count=1,
            now=now,
            expires_at=now + timedelta(hours=72),
        )

    with Stopwatch() as opening, ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(reserve, range(args.reservations)))

    per_send = args.messages // args.sends
    sends = [
        ledger.reserve(
            accounts[i],
            send_id=uuid4(),
            amount=per_send * PRICE,
            parts=per_send,
            count=per_send,
            now=now,
            expires_at=now + timedelta(hours=72),
        )
        for i in range(args.sends)
    ]

    def capture_all(reservation: UUID) -> int:
        captured = 0
        for start in range(0, per_send, args.batch):
            indexes = range(start, min(per_send, start + args.batch))
            n = len(indexes)
            captured += ledger.capture(reservation, indexes, [PRICE] * n, [1] * n)
        return captured

    with Stopwatch() as capturing, ThreadPoolExecutor(args.sends) as pool:
        totals = list(pool.map(capture_all, sends))
    if sum(totals) != per_send * args.sends * PRICE:
        raise SystemExit("captured amount mismatch")

    with Stopwatch() as reload:
        ledger.reservation(sends[0])

    runner = ledger_runner(backend)
    with Stopwatch() as projecting:
        runner.catch_up(timeout=600)
    events = ledger.recorder.max_notification_id() or 0

    latencies = read_balances(settings, args.reads)
    backend.close()
    return {
        "benchmark": "ledger",
        "reservations": args.reservations,
        "reservation_threads": args.threads,
        "reservations_per_s": round(args.reservations / opening.seconds, 1),
        "captured_messages": per_send * args.sends,
        "capture_batch": args.batch,
        "concurrent_sends": args.sends,
        "captures_per_s": round(per_send * args.sends / capturing.seconds, 1),
        "reservation_reload_ms": round(reload.seconds * 1000, 2),
        "projection_events": events,
        "projection_events_per_s": round(events / projecting.seconds, 1),
        "balance_reads": args.reads,
        "balance_read": latencies,
    }


def read_balances(settings: Settings, reads: int) -> dict[str, float]:
    """p50/p99 of GET /v1/account/balance over one keep-alive connection. The client is the
    standard library's ``http.client``: httpx alone adds about a millisecond per request here,
    which would measure the client, not the API."""
    log = settings.resolved_var_dir / "bench" / "api.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with api_server(settings, log) as url:
        body = registration(f"bench{uuid4().hex[:8]}")
        key = httpx.post(url + "/v1/accounts", json=body, timeout=10).json()["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        connection = http.client.HTTPConnection(urlsplit(url).netloc, timeout=10)
        samples = []
        for n in range(reads + 200):
            start = time.perf_counter()
            connection.request("GET", "/v1/account/balance", headers=headers)
            response = connection.getresponse()
            payload = response.read()
            if n >= 200:  # the first 200 warm connections, caches and prepared statements
                samples.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                print(payload.decode(), file=sys.stderr)
                raise SystemExit(1)
        connection.close()
    return percentiles(samples)
