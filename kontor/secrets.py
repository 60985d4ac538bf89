"""Secrets for a local platform: generated once into ``KONTOR_VAR_DIR/secrets.json``.

Production sets ``KONTOR_MASTER_KEY``, ``KONTOR_API_KEY_PEPPER`` and the automation keys'
hashes itself (``kontor keys new``); a developer's ``kontor up`` must work without that, and must
keep the same secrets across restarts (a new master key would make every sealed value
unreadable). The file keeps the operator's and finance's keys for the developer who reads it
(mode 0600); the processes ``kontor up`` starts get only the keys' hashes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from pathlib import Path

from adapters.crypto import apikeys
from settings import Settings


def generated_secrets(settings: Settings) -> Settings:
    """``settings`` with every unset secret filled from (or first written to) secrets.json."""
    path = settings.resolved_var_dir / "secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    pepper = stored.get("api_key_pepper") or secrets.token_hex(32)
    values = {
        "master_key": stored.get("master_key") or secrets.token_hex(32),
        "api_key_pepper": pepper,
        "admin_api_key": stored.get("admin_api_key") or apikeys.generate(pepper.encode()).plaintext,
        "finance_api_key": stored.get("finance_api_key")
        or apikeys.generate(pepper.encode()).plaintext,
    }
    if values != stored:
        _write_private(path, values)
    filled = dataclasses.replace(
        settings,
        master_key=settings.master_key or values["master_key"],
        api_key_pepper=settings.api_key_pepper or values["api_key_pepper"],
    )
    pepper_bytes = str(filled.api_key_pepper).encode()
    admin = settings.admin_api_key or values["admin_api_key"]
    finance = settings.finance_api_key or values["finance_api_key"]
    return dataclasses.replace(  # configured hashes stand as they are
        filled,
        admin_api_key=admin,
        finance_api_key=finance,
        admin_api_key_hash=settings.admin_api_key_hash or apikeys.hashed(pepper_bytes, admin),
        finance_api_key_hash=settings.finance_api_key_hash or apikeys.hashed(pepper_bytes, finance),
    )


def _write_private(path: Path, values: dict[str, str]) -> None:
    write_private(path, json.dumps(values, indent=2))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (mode 0600), replacing it whole: secrets and the
    carriers file with its SMPP passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o600)  # an earlier, wider file of that name keeps its mode otherwise
    os.replace(tmp, path)


def secrets_env(settings: Settings) -> dict[str, str]:
    names = ("master_key", "api_key_pepper", "admin_api_key_hash", "finance_api_key_hash")
    return {
        f"KONTOR_{name.upper()}": value
        for name in names
        if (value := getattr(settings, name)) is not None
    }
