"""``kontor projections``: where every follower of a notification log stands, and the event a held
projection cannot apply; ``kontor projections retry [NAME]``: try that event again now.

The database is ``KONTOR_DATABASE_URL``, else the one the running ``kontor up`` wrote to
``KONTOR_VAR_DIR/run/up.json``. ``kontor projections`` exits 1 while a projection is held (for
scripts and checks), else 0. A retry is made by the projections worker within a second; after a
fix is deployed (the worker restarted with the new code), the worker tries at once by itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

import psycopg

from projections.failures import Failure, failures, request_retry
from projections.read_side import FollowerStatus, followers
from settings import Settings


def add_parser(sub: Any) -> None:
    parser: argparse.ArgumentParser = sub.add_parser(
        "projections", help="status of the read models; retry an event a projection is held at"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    actions = parser.add_subparsers(dest="action")
    retry = actions.add_parser("retry", help="try the held event(s) again now")
    retry.add_argument("name", nargs="?", help="the projection (default: every held one)")
    retry.add_argument(
        "--wait", type=float, default=10.0, metavar="SECONDS", help="wait this long for the outcome"
    )


def database_url(settings: Settings) -> str | None:
    if settings.database_url:
        return settings.database_url
    state = settings.resolved_var_dir / "run" / "up.json"
    if state.exists():
        url = json.loads(state.read_text()).get("database_url")
        return str(url) if url else None
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url(settings)
    if url is None:
        print("kontor projections: no database (set KONTOR_DATABASE_URL or run kontor up)")
        return 2
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        if args.action == "retry":
            return _retry(conn, args.name, args.wait)
        status = followers(conn)
    if args.json:
        print(json.dumps([_as_json(f) for f in status], indent=2, default=str))
    else:
        print(table(status))
    return 1 if any(f.failure for f in status) else 0


def table(status: list[FollowerStatus]) -> str:
    if not status:
        return "no projections have run yet"
    header = ("PROJECTION", "APPLICATION", "POSITION", "HEAD", "BEHIND", "STATE")
    rows = [
        (f.name, f.application, str(f.position), str(f.head), str(f.behind), f.state)
        for f in status
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if 2 <= i <= 4 else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    lines = [line(header)]
    for follower, row in zip(status, rows, strict=True):
        lines.append(line(row))
        if follower.failure is not None:
            lines += [f"    {text}" for text in describe(follower.failure)]
    return "\n".join(lines)


def describe(failure: Failure) -> list[str]:
    return [
        f"held at {failure.event}",
        f"error: {failure.error}",
        f"{failure.attempts} attempts since {_when(failure.first_seen)},"
        f" last {_when(failure.last_seen)}, next {_when(failure.next_attempt_at)}",
        f"retry now: kontor projections retry {failure.projection}",
    ]


def _when(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _as_json(f: FollowerStatus) -> dict[str, Any]:
    failure = f.failure
    return {
        "projection": f.name,
        "application": f.application,
        "position": f.position,
        "head": f.head,
        "behind": f.behind,
        "state": f.state,
        "failing": None
        if failure is None
        else {
            "notification_id": failure.notification_id,
            "topic": failure.topic,
            "originator_id": failure.originator_id,
            "originator_version": failure.originator_version,
            "error": failure.error,
            "attempts": failure.attempts,
            "first_seen": failure.first_seen,
            "last_seen": failure.last_seen,
            "next_attempt_at": failure.next_attempt_at,
        },
    }


def _retry(conn: psycopg.Connection[Any], name: str | None, wait: float) -> int:
    asked = request_retry(conn, name)
    if not asked:
        print(f"no projection{'' if name is None else ' ' + name} is held at an event")
        return 0 if name is None else 1
    for f in asked:
        print(f"asked {f.projection} ({f.application}) to retry {f.event}")
    deadline = time.monotonic() + wait
    pending = {(f.projection, f.application): f for f in asked}
    outcome = 0
    while pending and time.monotonic() < deadline:
        time.sleep(0.5)
        now = {(f.projection, f.application): f for f in failures(conn)}
        for key, before in list(pending.items()):
            after = now.get(key)
            if after is None or after.notification_id != before.notification_id:
                print(f"{key[0]} ({key[1]}) applied it and resumed")
            elif after.last_seen > before.last_seen:
                print(f"{key[0]} ({key[1]}) failed again: {after.error}")
                outcome = 1
            else:
                continue
            del pending[key]
    for projection, application in pending:
        print(f"{projection} ({application}) has not tried yet (is the projections worker up?)")
        outcome = 1
    sys.stdout.flush()
    return outcome
