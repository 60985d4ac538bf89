"""``kontor keys new --role admin|finance``: a key for automation (scripts, the accounting
system's import) and the hash to configure for it; ``kontor keys hash`` hashes a key read from
standard input. The key is printed once and never configured: the platform is given only
``KONTOR_ADMIN_API_KEY_HASH`` (``KONTOR_FINANCE_API_KEY_HASH``). The hash depends on the API key
pepper: the configured ``KONTOR_API_KEY_PEPPER``, else the one in ``KONTOR_VAR_DIR/secrets.json``
that ``kontor up`` uses."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from adapters.crypto import apikeys
from settings import Settings


def add_parser(sub: Any) -> None:
    keys = sub.add_parser("keys", help="make the operator's and finance's automation keys")
    actions = keys.add_subparsers(dest="action", required=True)
    new = actions.add_parser("new", help="a new key, and the hash to configure for it")
    new.add_argument("--role", required=True, choices=["admin", "finance"])
    actions.add_parser("hash", help="the hash to configure for a key read from standard input")


def _pepper(settings: Settings) -> bytes | None:
    if settings.api_key_pepper:
        return settings.api_key_pepper.encode()
    path = settings.resolved_var_dir / "secrets.json"
    if path.exists():
        stored = json.loads(path.read_text()).get("api_key_pepper")
        return str(stored).encode() if stored else None
    return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    pepper = _pepper(settings)
    if pepper is None:
        print("kontor keys: set KONTOR_API_KEY_PEPPER (or start `kontor up` once)", file=sys.stderr)
        return 2
    if args.action == "new":
        key = apikeys.generate(pepper).plaintext
        print(f"key (shown once, give it to the automation): {key}")
        print(f"KONTOR_{args.role.upper()}_API_KEY_HASH={apikeys.hashed(pepper, key)}")
        return 0
    presented = sys.stdin.readline().strip()
    try:
        print(apikeys.hashed(pepper, presented))
    except apikeys.MalformedApiKeyError as exc:
        print(f"kontor keys hash: {exc}", file=sys.stderr)
        return 2
    return 0
