"""``python -m tests.support.schema_check [-n N]``: schemathesis against a real API.

Boots an embedded PostgreSQL and NATS (under ``var/test/``), serves the API on a free loopback
port, registers a customer with credit, and runs ``schemathesis run --checks all`` once with
the customer's key, once with the admin key and once with finance's (config in
``schemathesis.toml``). Exits 1 when any run reports a failure. Issue 15's bar: zero failures.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time

import httpx
import uvicorn

from adapters.embedded import ensure_database
from adapters.postgres.migrations import migrate
from api.app import create_app
from kontor.logs import configure_logging
from kontor.samples import registration
from settings import Settings
from tests.support.api import settings_with_secrets
from tests.support.servers import TEST_VAR, boot_nats, boot_postgres


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keys(base: str, settings: Settings) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {settings.admin_api_key}"}
    registered = httpx.post(
        base + "/v1/accounts",
        json=registration("schemathesis"),
    ).json()
    httpx.post(
        base + f"/v1/admin/accounts/{registered['account_id']}/topups",
        json={"net": 10**9, "method": "paypal", "reference": "schemathesis"},
        headers=admin,
    ).raise_for_status()
    return {
        "customer": registered["api_key"],
        "admin": str(settings.admin_api_key),
        "finance": str(settings.finance_api_key),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--max-examples", type=int, default=15)
    args = parser.parse_args()
    root = TEST_VAR / f"schemathesis-{secrets.token_hex(4)}"
    postgres = boot_postgres(root / "postgres")
    nats = boot_nats(root / "nats")
    server: uvicorn.Server | None = None
    try:
        url = ensure_database(postgres.url, "kontor_schemathesis")
        migrate(url)
        settings = settings_with_secrets(
            Settings(database_url=url, nats_url=nats.url, var_dir=root / "var", metrics_port=0)
        )
        configure_logging("WARNING", json=True, process="api")
        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_config=None)
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        failed = []
        for who, key in _keys(base, settings).items():
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "schemathesis.cli",
                    "run",
                    f"{base}/schema/openapi.json",
                    "--checks",
                    "all",
                    "-n",
                    str(args.max_examples),
                    "--no-color",
                    "-H",
                    f"Authorization: Bearer {key}",
                ],
                check=False,
            )
            print(json.dumps({"key": who, "exit": run.returncode}), flush=True)
            if run.returncode != 0:
                failed.append(who)
        return 1 if failed else 0
    finally:
        if server is not None:
            server.should_exit = True
        nats.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
