"""``kontor bench pipeline --recipients N --json``: the whole send path on this machine.

PostgreSQL, NATS JetStream, the SMSC simulator, the API and every worker run as processes (as
``kontor up`` runs them). One account sends a campaign of N personalised recipients; while it
runs, another account sends single messages (the transactional lane), and their latency from
the API call to the simulator's submit_sm is measured. Printed:

- ``source``: ``inline`` (the recipients in the request's body) or ``list`` (imported through
  the API first, ``import_seconds``; the default above 50,000 recipients, since a body that
  big is refused); ``answer_ms``: the campaign request until its answer;
  ``acceptance_seconds``: until the campaign was accepted (for a list, in the background);
  ``api_during_acceptance``: the latency of the customer's other requests meanwhile;
- ``msgs_per_s``: N / (first acceptance to the last final delivery report);
- ``single_send_p99_ms``: API call -> submit_sm at the SMSC, for the single messages; split in
  ``single_send_api_ms`` (the API call until its answer) and ``single_send_after_api_ms`` (the
  answer until the submit_sm: the API's own publish, dispatcher and carrier sender), and
  ``single_send_slowest`` (the slowest three: when in the run, and that split);
- ``lost`` (accepted but not final), ``duplicates`` (submitted twice at the SMSC);
- ``store_events_per_s``: the raw event-store append rate (500 events a transaction) measured
  in the same run, for comparison;
- ``peak_rss_mb``: the largest resident memory of each kind of process (with its children)
  during the run;
- ``python_loop_ms``: a fixed pure-Python workload timed right after the run (best of three):
  this machine's speed at the time. A shared VM's varies by half within an hour, and every
  figure above moves with it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
import psycopg
from eventsourcing.domain import Aggregate

from adapters.postgres.eventstore import event_store_env
from benchmarks.list_source import NAMES, ApiProbe, RssSampler, import_list, wait_accepted
from benchmarks.support import bench_settings, percentiles
from domain.base import KontorApplication
from kontor.samples import registration
from kontor.stack import Pipeline
from settings import Settings

LIST_ABOVE = 50_000
FINAL = ("delivered", "failed", "rejected", "cancelled")
OPEN = ("queued", "pending", "buffered", "unconfirmed")


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench pipeline")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--singles-per-s", type=float, default=4.0)
    parser.add_argument("--tps", type=float, default=6000, help="the bind's parts per second")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument(
        "--source",
        choices=("list", "inline"),
        help="where the recipients come from: an imported list (the default above 50,000)"
        " or the request's body",
    )
    args = parser.parse_args(argv)
    args.source = args.source or ("list" if args.recipients > LIST_ABOVE else "inline")
    with bench_settings(settings) as s:
        result = run(s, args)
    print(json.dumps(result, indent=2))
    return 0


class StoreProbe(KontorApplication):
    """A scratch application: how fast does this event store append, batched?"""


class Probe(Aggregate):
    def __init__(self, n: int) -> None:
        self.n = n


def store_rate(settings: Settings, events: int = 20_000, batch: int = 500) -> float:
    app = StoreProbe(env=event_store_env(settings.database_url))
    start = time.perf_counter()
    for _ in range(events // batch):
        app.save(*(Probe(n) for n in range(batch)))
    rate = events / (time.perf_counter() - start)
    app.close()
    return round(rate, 1)


def python_loop_ms(n: int = 5_000_000, rounds: int = 3) -> float:
    """Milliseconds for ``n`` additions in a Python loop on one core, best of ``rounds``."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        total = 0
        for i in range(n):
            total += i
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    workdir = settings.resolved_var_dir / "bench" / f"pipeline-{secrets.token_hex(3)}"
    sim = ["--dlr-delay", "0.05,0.3", "--seed", "1"]
    pipeline = Pipeline(settings, workdir, sim, tps=args.tps)
    memory = RssSampler(pipeline)
    try:
        pipeline.start_all()
        memory.start()
        with pipeline.client() as client:
            bulk, single = account(client, pipeline), account(client, pipeline)
            time.sleep(3)  # the workers' first connections, JetStream consumers, SMPP binds
            latencies = Latencies()
            stop = threading.Event()
            sender = threading.Thread(
                target=send_singles, args=(pipeline, single, args.singles_per_s, stop, latencies)
            )
            text = "Hallo {vorname}, Ihr Paket kommt morgen zwischen 8 und 12 Uhr."
            body: dict[str, Any] = {"text": text, "sender": "Paketdienst", "name": "bench"}
            figures: dict[str, Any] = {"source": args.source}
            if args.source == "list":
                pipeline.start("imports")
                list_id, imported = import_list(client, bulk, args.recipients, args.timeout)
                figures["import_seconds"] = round(imported, 2)
                body["list_id"] = list_id
            else:
                body["recipients"] = [
                    {"number": f"+49151{n:08d}", "fields": {"vorname": NAMES[n % 3]}}
                    for n in range(args.recipients)
                ]
            probe = ApiProbe(pipeline, bulk)
            probe.start()
            started = time.time()
            response = client.post("/v1/campaigns", json=body, headers=bulk, timeout=600)
            answered_at = time.time()
            if response.status_code != 202:
                raise SystemExit(f"campaign refused: {response.text}")
            campaign = response.json()
            figures["answer_ms"] = round((answered_at - started) * 1000, 1)
            accepted_at = answered_at
            if args.source == "list":
                accepted_at, campaign = wait_accepted(
                    client, bulk, campaign["campaign_id"], args.timeout
                )
            figures["api_during_acceptance"] = probe.stop()
            sender.start()
            last_final = wait_final(
                settings, campaign["campaign_id"], args.recipients, args.timeout
            )
            stop.set()
            sender.join()
        counts = final_counts(settings, campaign["campaign_id"])
        stages = stage_times(settings, campaign["campaign_id"], started)
        record = pipeline.record
        elapsed = last_final - started
        return {
            "benchmark": "pipeline",
            "recipients": args.recipients,
            "accepted": campaign["recipients"],
            "submitted": record.count_submits(),
            "delivered": counts.get("delivered", 0),
            "final": sum(counts.get(s, 0) for s in FINAL),
            "lost": campaign["recipients"] - sum(counts.get(s, 0) for s in FINAL),
            "duplicates": sum(d.count - 1 for d in record.duplicates()),
            "acceptance_seconds": round(accepted_at - started, 2),
            **figures,
            "elapsed_seconds": round(elapsed, 2),
            "msgs_per_s": round(args.recipients / elapsed, 1),
            "single_sends": len(latencies.total),
            "single_send_ms": percentiles(latencies.total) if latencies.total else None,
            "single_send_p99_ms": (
                percentiles(latencies.total)["p99_ms"] if latencies.total else None
            ),
            "single_send_api_ms": percentiles(latencies.api) if latencies.api else None,
            "single_send_after_api_ms": (
                percentiles(latencies.after_api) if latencies.after_api else None
            ),
            "single_send_slowest": latencies.slowest(started),
            "stages_s": stages,
            "peak_rss_mb": memory.stop(),
            "store_events_per_s": store_rate(settings),
            "python_loop_ms": python_loop_ms(),
        }
    finally:
        pipeline.stop()


def account(client: httpx.Client, pipeline: Pipeline) -> dict[str, str]:
    body = registration(f"bench{secrets.token_hex(4)}", kind="company", company="Bench GmbH")
    registered = client.post("/v1/accounts", json=body).json()
    admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
    client.post(
        f"/v1/admin/accounts/{registered['account_id']}/topups",
        json={"net": 10**12, "method": "bank_transfer", "reference": str(uuid4())},
        headers=admin,
    ).raise_for_status()
    client.patch(
        f"/v1/admin/accounts/{registered['account_id']}",
        json={"review_threshold": 10_000_000},
        headers=admin,
    ).raise_for_status()
    return {"Authorization": f"Bearer {registered['api_key']}"}


@dataclass
class Latencies:
    """Milliseconds per single message: in total, in the API, and after the API answered."""

    total: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    after_api: list[float] = field(default_factory=list)
    called: list[float] = field(default_factory=list)
    """When each was sent (epoch seconds), to place the slowest in the run."""

    def slowest(self, started: float, n: int = 3) -> list[dict[str, float]]:
        """The ``n`` slowest single sends: seconds after the campaign's API call, and where
        their time went."""
        ranked = sorted(range(len(self.total)), key=lambda i: -self.total[i])[:n]
        return [
            {
                "at_s": round(self.called[i] - started, 2),
                "total_ms": round(self.total[i], 1),
                "api_ms": round(self.api[i], 1),
                "after_api_ms": round(self.after_api[i], 1),
            }
            for i in ranked
        ]


def send_singles(
    pipeline: Pipeline,
    headers: dict[str, str],
    per_second: float,
    stop: threading.Event,
    latencies: Latencies,
) -> None:
    """Single messages from another account while the campaign runs; each one's latency is
    the time from the API call until the SMSC recorded its submit_sm."""
    with httpx.Client(base_url=pipeline.base_url, timeout=30) as client:
        n = 0
        pending: dict[str, tuple[float, float]] = {}
        while not stop.is_set():
            number = f"+49170{9_000_000 + n:07d}"
            n += 1
            called = time.time()
            client.post("/v1/messages", json={"to": [number], "text": "Ihr Code: 4711",
                        "sender": "Bank"}, headers=headers)  # fmt: skip
            pending[number[1:]] = (called, time.time())
            stop.wait(1 / per_second)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for row in pipeline.record.submits():
                sent = pending.pop(row.destination_addr, None)
                if sent is not None:
                    called, answered = sent
                    latencies.total.append((row.received_at - called) * 1000)
                    latencies.api.append((answered - called) * 1000)
                    latencies.after_api.append((row.received_at - answered) * 1000)
                    latencies.called.append(called)
            time.sleep(0.5)


def stage_times(settings: Settings, campaign_id: str, started: float) -> dict[str, float]:
    """Seconds after the API call when the first and last message was recorded, answered by the
    carrier, and reported final: where the time goes."""
    with psycopg.connect(str(settings.database_url)) as conn:
        row = conn.execute(
            "SELECT min(recorded_at), max(recorded_at), min(submitted_at), max(submitted_at),"
            " min(final_at), max(final_at) FROM msg_messages WHERE send_id = %s",
            (campaign_id,),
        ).fetchone()
    names = ("recorded_first", "recorded_last", "submitted_first", "submitted_last",
             "final_first", "final_last")  # fmt: skip
    return {
        name: round(value.timestamp() - started, 2)
        for name, value in zip(names, row or (), strict=False)
        if value is not None
    }


def final_counts(settings: Settings, campaign_id: str) -> dict[str, int]:
    with psycopg.connect(str(settings.database_url)) as conn:
        rows = conn.execute(
            "SELECT state, count(*) FROM msg_messages WHERE send_id = %s GROUP BY state",
            (campaign_id,),
        ).fetchall()
    return {state: int(n) for state, n in rows}


def wait_final(settings: Settings, campaign_id: str, total: int, timeout: float) -> float:
    """Poll the read model until every message is final; the time the last one became final.

    The poll must not load the machine it measures: it waits until every message is recorded
    (one row of ``msg_sends``), then counts only the messages still open (an index range that
    shrinks to nothing), and reads the final times once at the end."""
    deadline = time.time() + timeout
    with psycopg.connect(str(settings.database_url), autocommit=True) as conn:
        while time.time() < deadline:
            recorded = conn.execute(
                "SELECT recorded FROM msg_sends WHERE send_id = %s", (campaign_id,)
            ).fetchone()
            if recorded and recorded[0] >= total:
                row = conn.execute(
                    "SELECT count(*) FROM msg_messages WHERE send_id = %s AND state = ANY(%s)",
                    (campaign_id, list(OPEN)),
                ).fetchone()
                if row and row[0] == 0:
                    final = conn.execute(
                        "SELECT count(*), max(final_at) FROM msg_messages"
                        " WHERE send_id = %s AND state = ANY(%s)",
                        (campaign_id, list(FINAL)),
                    ).fetchone()
                    if final and final[0] >= total:
                        return float(final[1].timestamp()) if final[1] else time.time()
            time.sleep(0.5)
    raise SystemExit(f"the campaign did not finish within {timeout} s")
