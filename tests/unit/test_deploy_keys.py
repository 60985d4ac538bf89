"""The operator's and finance's automation keys are configured as hashes: ``kontor keys new``
makes one, the API checks a presented key against the hash alone, and a malformed hash is
refused when the settings load."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from litestar.exceptions import NotAuthorizedException

from adapters.crypto import apikeys
from api.auth import Authenticator
from domain.accounts.api_key import Role
from kontor.cli import main
from kontor.secrets import generated_secrets, secrets_env
from settings import Settings, SettingsError, load_settings

PEPPER = b"pepper-for-tests"


def authenticator(admin_hash: str | None) -> Authenticator:
    def no_customer_keys(prefix: str) -> None:
        raise AssertionError(f"a deploy key's prefix is never looked up: {prefix}")

    return Authenticator(
        pepper=PEPPER, load_key=no_customer_keys, admin_key=admin_hash, finance_key=None
    )


def test_a_deploy_key_is_checked_against_its_configured_hash() -> None:
    key = apikeys.generate(PEPPER).plaintext
    configured = apikeys.hashed(PEPPER, key)
    assert key not in configured
    auth = authenticator(configured)
    principal = asyncio.run(auth.authenticate(key))
    assert principal.role is Role.ADMIN
    forged = key[:-1] + ("A" if key[-1] != "A" else "B")  # same prefix, another secret
    with pytest.raises(NotAuthorizedException):
        asyncio.run(auth.authenticate(forged))


def test_a_malformed_hash_is_refused_when_the_settings_load() -> None:
    with pytest.raises(SettingsError, match="KONTOR_ADMIN_API_KEY_HASH"):
        load_settings({"KONTOR_ADMIN_API_KEY_HASH": "kt_abcdefghijkl_plaintext"})
    key = apikeys.generate(PEPPER).plaintext
    fine = load_settings({"KONTOR_FINANCE_API_KEY_HASH": apikeys.hashed(PEPPER, key)})
    assert fine.finance_api_key_hash == apikeys.hashed(PEPPER, key)


def test_a_plain_key_given_the_old_way_is_hashed_not_kept() -> None:
    key = apikeys.generate(PEPPER).plaintext
    assert apikeys.configured(PEPPER, None, key) == apikeys.hashed(PEPPER, key)
    assert apikeys.configured(PEPPER, "x:y", key) == "x:y"  # a configured hash wins
    assert apikeys.configured(PEPPER, None, None) is None


def test_kontor_up_gives_its_processes_the_keys_hashes_only(tmp_path: Path) -> None:
    settings = generated_secrets(Settings(var_dir=tmp_path))
    stored = json.loads((tmp_path / "secrets.json").read_text())
    env = secrets_env(settings)
    pepper = stored["api_key_pepper"].encode()
    assert env["KONTOR_ADMIN_API_KEY_HASH"] == apikeys.hashed(pepper, stored["admin_api_key"])
    assert env["KONTOR_FINANCE_API_KEY_HASH"] == apikeys.hashed(pepper, stored["finance_api_key"])
    assert stored["admin_api_key"] not in json.dumps(env)
    assert stored["finance_api_key"] not in json.dumps(env)
    again = generated_secrets(dataclasses.replace(Settings(var_dir=tmp_path)))
    assert again.admin_api_key_hash == settings.admin_api_key_hash  # the same across restarts


def test_kontor_keys_new_prints_a_key_and_the_hash_to_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KONTOR_API_KEY_PEPPER", PEPPER.decode())
    monkeypatch.setenv("KONTOR_VAR_DIR", str(tmp_path))
    assert main(["keys", "new", "--role", "finance"]) == 0
    lines = capsys.readouterr().out.splitlines()
    key = lines[0].rpartition(": ")[2]
    assert lines[1] == f"KONTOR_FINANCE_API_KEY_HASH={apikeys.hashed(PEPPER, key)}"
    principal = asyncio.run(
        Authenticator(
            pepper=PEPPER,
            load_key=None,
            admin_key=None,
            finance_key=lines[1].partition("=")[2],
        ).authenticate(key)
    )
    assert principal.role is Role.FINANCE
