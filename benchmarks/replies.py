"""``kontor bench replies --recipients N --share S --json``: replies and callbacks while a
campaign sends.

The whole platform runs as processes (as in ``kontor bench pipeline``), with the callbacks
worker and a webhook receiver on this machine. One account, with a reply webhook and a status
webhook to the receiver and a signing secret, sends a campaign of N; the simulator answers a
share S of the messages (its ``mo`` scenario, 0.2 to 2 s after each submit). Printed:

- ``replies``: what the simulator delivered and the platform acknowledged; ``matched`` (shown
  to the account in ``/v1/replies``) and ``forwarded`` (posted to the receiver, distinct);
- ``replies_per_s``: replies over the span from the first reply's deliver_sm to the last
  reply's callback (ingested, matched and forwarded: the whole chain);
  ``reply_arrivals_per_s``: the rate the simulator delivered them at, for comparison;
- ``reply_callback_ms``: per reply, the carrier's deliver_sm (acknowledged by the platform) to
  the receiver's request, p50/p90/p99/max; ``status_callback_ms`` likewise for each message's
  final delivery report and its ``message.status`` call;
- ``queued_to_posted_ms``: per kind, from the follower queueing a callback to the receiver's
  request (the callbacks worker's part of the latency);
- ``msgs_per_s`` of the campaign meanwhile, ``python_loop_ms``.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from dataclasses import replace
from typing import Any

import psycopg

from benchmarks.pipeline import account, python_loop_ms
from benchmarks.support import bench_settings, percentiles
from kontor.receiver import receiver
from kontor.stack import Pipeline
from settings import Settings


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench replies")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--share", type=float, default=0.3, help="messages answered")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    with bench_settings(settings) as s:
        result = run(replace(s, webhook_allowed_networks="127.0.0.0/8"), args)
    print(json.dumps(result, indent=2))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    workdir = settings.resolved_var_dir / "bench" / f"replies-{secrets.token_hex(3)}"
    sim = ["--scenario", "mo", "--mo-share", str(args.share), "--mo-delay", "0.2,2",
           "--mo-text", "Danke, passt", "--dlr-delay", "0.05,0.3", "--seed", "1"]  # fmt: skip
    pipeline = Pipeline(settings, workdir, sim)
    with receiver() as http:
        try:
            pipeline.start_all()
            pipeline.start("callbacks")
            with pipeline.client() as client:
                headers = account(client, pipeline)
                client.put("/v1/callbacks", headers=headers, json={
                    "reply_url": http.url + "/ok", "status_url": http.url + "/ok",
                }).raise_for_status()  # fmt: skip
                client.post("/v1/callbacks/secret", headers=headers).raise_for_status()
                time.sleep(6)  # the followers read an account's callbacks anew after 5 s
                started = time.time()
                body = {"text": "Ihr Termin ist morgen um 9 Uhr. Passt das?", "sender": "Praxis",
                        "recipients": [{"number": f"+49151{n:08d}"}
                                       for n in range(args.recipients)]}  # fmt: skip
                campaign = client.post("/v1/campaigns", json=body, headers=headers, timeout=600)
                campaign.raise_for_status()
                replies, statuses, done = wait(pipeline, http, args, started)
                matched = _matched(client, headers)
                posted = _posted_after_queued(pipeline, http)
            with pipeline.record as record:
                mo = record.acknowledged("mo")
                dlr = record.acknowledged("dlr")
        finally:
            pipeline.stop()
    reply_ms = [(replies[n] - mo[n]) * 1000 for n in replies if n in mo]
    status_ms = [(statuses[n] - dlr[n]) * 1000 for n in statuses if n in dlr]
    first_mo = min(mo.values()) if mo else started
    last_reply = max(replies.values()) if replies else started
    span = max(last_reply - first_mo, 1e-3)
    arrivals = max(max(mo.values()) - first_mo, 1e-3) if mo else 1e-3
    return {
        "benchmark": "replies",
        "recipients": args.recipients,
        "replies": len(mo),
        "matched": matched,
        "forwarded": len(replies),
        "statuses_forwarded": len(statuses),
        "replies_per_s": round(len(replies) / span, 1),
        "reply_arrivals_per_s": round(len(mo) / arrivals, 1),
        "reply_callback_ms": percentiles(reply_ms) if reply_ms else None,
        "status_callback_ms": percentiles(status_ms) if status_ms else None,
        "queued_to_posted_ms": {kind: percentiles(ms) for kind, ms in posted.items() if ms},
        "msgs_per_s": round(args.recipients / max(done - started, 1e-3), 1),
        "python_loop_ms": python_loop_ms(),
    }


def wait(
    pipeline: Pipeline, http: Any, args: argparse.Namespace, started: float
) -> tuple[dict[str, float], dict[str, float], float]:
    """Until every acknowledged reply was posted and every message's final status: when each
    handset's reply and final status arrived at the receiver, and when the last did."""
    deadline = started + args.timeout
    replies: dict[str, float] = {}
    statuses: dict[str, float] = {}
    seen = 0
    while time.time() < deadline:
        with http.lock:
            fresh = http.requests[seen:]
            seen = len(http.requests)
        for request in fresh:
            payload = json.loads(request.body)
            data = payload["data"]
            if payload["type"] == "reply.received":
                replies.setdefault(data["from"].removeprefix("00"), request.at)
            elif data["final"]:
                statuses.setdefault(data["message_id"], request.at)
        with pipeline.record as record:
            replied = record.replied()
        if len(statuses) >= args.recipients and replied and len(replies) >= len(set(replied)):
            break
        time.sleep(0.5)
    return replies, _by_handset(pipeline, statuses), max([*statuses.values(), started])


def _by_handset(pipeline: Pipeline, statuses: dict[str, float]) -> dict[str, float]:
    """The final statuses' arrival per handset (the receipt times are kept per handset): the
    campaign's recipient ``idx`` is ``+49151`` and ``idx`` in eight digits."""
    with psycopg.connect(pipeline.settings.database_url or "") as conn:
        rows = conn.execute(
            "SELECT message_id::text, idx FROM msg_messages WHERE message_id::text = ANY(%s)",
            (list(statuses),),
        ).fetchall()
    return {f"49151{idx:08d}": statuses[mid] for mid, idx in rows}


def _posted_after_queued(pipeline: Pipeline, http: Any) -> dict[str, list[float]]:
    """Per kind of callback, its first request's arrival after the follower queued it (the
    rest of a callback's latency is the ingest and the follower)."""
    first: dict[str, float] = {}
    with http.lock:
        for request in http.requests:
            first.setdefault(request.headers["Webhook-Id"], request.at)
    with psycopg.connect(pipeline.settings.database_url or "") as conn:
        rows = conn.execute(
            "SELECT delivery_id::text, event_type, extract(epoch FROM created_at)"
            " FROM callback_deliveries"
        ).fetchall()
    found: dict[str, list[float]] = {}
    for delivery_id, kind, queued in rows:
        if delivery_id in first:
            found.setdefault(kind, []).append((first[delivery_id] - float(queued)) * 1000)
    return found


def _matched(client: Any, headers: dict[str, str]) -> int:
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        page = client.get("/v1/replies", headers=headers, params=params).json()
        count += len(page["items"])
        if not (cursor := page["next_cursor"]):
            return count
