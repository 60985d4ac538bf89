"""``kontor staff add --username U --email E --role operator|support|finance``: a staff user,
and the single-use link (24 hours) with which they set their password."""

from __future__ import annotations

import argparse
import getpass
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from adapters.backend import open_backend
from adapters.crypto.passwords import Passwords
from adapters.postgres.sessions import PostgresOneTimeTokens, PostgresSessions
from domain.accounts.user import STAFF_ROLES, UserRole
from kontor.secrets import generated_secrets
from services.staff import StaffEnrolment
from settings import Settings


def add_parser(sub: Any) -> None:
    staff = sub.add_parser("staff", help="manage the platform's staff users")
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a staff user; prints their set-password link")
    add.add_argument("--username", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=sorted(r.value for r in STAFF_ROLES))


def run(args: argparse.Namespace, settings: Settings) -> int:
    if settings.database_url is None:  # the running `kontor up`'s database and secrets
        state = settings.resolved_var_dir / "run" / "up.json"
        if not state.exists():
            print("kontor staff: start `kontor up` first, or set KONTOR_DATABASE_URL")
            return 2
        database_url = json.loads(state.read_text())["database_url"]
        settings = generated_secrets(replace(settings, database_url=database_url))
    backend = open_backend(settings, pool_size=2)
    try:
        pool = backend.pool
        if pool is None:
            print("kontor staff: needs KONTOR_DATABASE_URL (kontor up prints it)")
            return 2
        PostgresSessions(pool).setup()
        base = settings.public_url or f"http://{settings.http_host}:{settings.http_port}"
        enrolment = StaffEnrolment(
            backend.accounts,
            PostgresOneTimeTokens(pool, "password-reset"),
            Passwords(),
            lambda: datetime.now(UTC),
            lambda token: f"{base.rstrip('/')}/reset-password#token={token}",
        )
        user, link = enrolment.enrol(
            args.username, args.email, UserRole(args.role), f"cli:{getpass.getuser()}"
        )
    finally:
        backend.close()
    print(f"staff user {user.username} ({user.role.value}): {user.id}")
    print(f"set the password within 24 hours: {link}")
    print("then sign in and set up two-factor sign-in (staff always use it)")
    return 0
