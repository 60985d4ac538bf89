"""``kontor bench pages --recipients 100000 --json``: the application's pages while a big
campaign goes out.

The whole platform runs as ``kontor up`` runs it. A customer imports a list of
``--recipients`` numbers through the API and sends a personalised campaign to it. From the
moment the campaign is requested until its last final report, the same customer, signed in
through the sign-in form as a browser is, asks in turn for the dashboard (``GET /app``) and
for the compose page's live preview of a message to that list (``POST /app/senden/vorschau``:
the list's first 200 recipients rendered and priced, the total estimated), ``--interval``
seconds apart. Printed: the time of each request from its sending to its answer on this
machine's loopback (the server's time plus well under a millisecond), p50/p90/p99/max, also
split by whether the campaign was still being accepted or already sending; errors;
``python_loop_ms``.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx

from benchmarks.list_source import import_list
from benchmarks.pipeline import python_loop_ms, wait_final
from benchmarks.support import bench_settings, percentiles
from kontor.samples import SAMPLE_PASSWORD, registration
from kontor.stack import Pipeline
from settings import Settings

TEXT = "Hallo {vorname}, Ihr Paket kommt morgen zwischen 8 und 12 Uhr."


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench pages")
    parser.add_argument("--json", action="store_true", help="print JSON (the only format)")
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.05, help="pause between requests")
    parser.add_argument("--tps", type=float, default=6000, help="the bind's parts per second")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args(argv)
    with bench_settings(settings) as s:
        result = run(s, args)
    print(json.dumps(result, indent=2))
    return 0


def run(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    workdir = settings.resolved_var_dir / "bench" / f"pages-{secrets.token_hex(3)}"
    pipeline = Pipeline(settings, workdir, ["--dlr-delay", "0.05,0.3", "--seed", "1"],
                        tps=args.tps)  # fmt: skip
    try:
        pipeline.start_all()
        pipeline.start("imports")
        with pipeline.client() as client:
            username, headers = customer(client, pipeline)
            time.sleep(3)  # the workers' first connections, JetStream consumers, SMPP binds
            list_id, imported = import_list(client, headers, args.recipients, args.timeout)
            browser = signed_in(pipeline.base_url, username)
            visitor = Visitor(browser, list_id, args.interval)
            started = time.time()
            body = {"name": "bench", "text": TEXT, "sender": "Paketdienst", "list_id": list_id}
            answer = client.post("/v1/campaigns", headers=headers, timeout=600, json=body)
            if answer.status_code != 202:
                raise SystemExit(f"campaign refused: {answer.text}")
            campaign_id = answer.json()["campaign_id"]
            visitor.start(client, headers, campaign_id)
            wait_final(settings, campaign_id, args.recipients, args.timeout)
            visitor.stop()
            browser.close()
        return {
            "benchmark": "pages",
            "recipients": args.recipients,
            "import_seconds": round(imported, 2),
            "campaign_seconds": round(time.time() - started, 2),
            **visitor.figures(),
            "python_loop_ms": python_loop_ms(),
        }
    finally:
        pipeline.stop()


def customer(client: httpx.Client, pipeline: Pipeline) -> tuple[str, dict[str, str]]:
    """A registered customer with credit for any campaign: its username and API key."""
    username = f"pages{secrets.token_hex(4)}"
    body = registration(username, kind="company", company="Bench GmbH")
    registered = client.post("/v1/accounts", json=body)
    registered.raise_for_status()
    account_id = registered.json()["account_id"]
    admin = {"Authorization": f"Bearer {pipeline.settings.admin_api_key}"}
    topup = {"net": 10**12, "method": "bank_transfer", "reference": str(uuid4())}
    path = f"/v1/admin/accounts/{account_id}"
    client.post(f"{path}/topups", headers=admin, json=topup).raise_for_status()
    client.patch(path, headers=admin, json={"review_threshold": 10_000_000}).raise_for_status()
    return username, {"Authorization": f"Bearer {registered.json()['api_key']}"}


def signed_in(base_url: str, username: str) -> httpx.Client:
    """A client signed in through the sign-in form, with its session and form cookies."""
    browser = httpx.Client(base_url=base_url, timeout=60)
    form = browser.get("/anmelden")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text)
    if token is None:
        raise SystemExit("the sign-in form has no token")
    done = browser.post("/anmelden", follow_redirects=False, data={
        "login": username, "password": SAMPLE_PASSWORD, "form_token": token.group(1)})  # fmt: skip
    if done.status_code != 303:
        raise SystemExit(f"sign-in refused: {done.status_code} {done.text[:300]}")
    return browser


@dataclass
class Visitor:
    """The signed-in customer asking for the dashboard and the list's live preview in turn,
    each request's milliseconds kept by page and by the campaign's phase."""

    browser: httpx.Client
    list_id: str
    interval: float
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    phase: str = "accepting"
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, client: httpx.Client, headers: dict[str, str], campaign_id: str) -> None:
        self._threads = [
            threading.Thread(target=self._visit, daemon=True),
            threading.Thread(target=self._follow, args=(client, headers, campaign_id),
                             daemon=True),
        ]  # fmt: skip
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _follow(self, client: httpx.Client, headers: dict[str, str], campaign_id: str) -> None:
        """Which phase the campaign is in: accepting until its list is, then sending."""
        with httpx.Client(base_url=str(client.base_url), timeout=30) as own:
            while not self._stop.is_set() and self.phase == "accepting":
                found = own.get(f"/v1/campaigns/{campaign_id}", headers=headers).json()
                if (found.get("acceptance") or {}).get("state") == "accepted":
                    self.phase = "sending"
                self._stop.wait(0.25)

    def _visit(self) -> None:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.browser.get("/app/senden").text)
        if csrf is None:
            raise SystemExit("the compose page has no CSRF token")
        draft = {"csrf_token": csrf.group(1), "list_id": self.list_id, "numbers": "",
                 "sender": "Paketdienst", "text": TEXT}  # fmt: skip
        n = 0
        while not self._stop.is_set():
            page, phase = ("dashboard", "preview")[n % 2], self.phase
            began = time.perf_counter()
            if page == "dashboard":
                answer = self.browser.get("/app")
            else:
                answer = self.browser.post("/app/senden/vorschau", data=draft)
            self.samples[f"{page}:{phase}"].append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200 or (page == "preview" and "Empfänger" not in answer.text):
                self.errors[page] += 1
            n += 1
            self._stop.wait(self.interval)

    def figures(self) -> dict[str, Any]:
        found: dict[str, Any] = {"errors": dict(self.errors)}
        for page in ("dashboard", "preview"):
            every = [ms for key, v in self.samples.items() if key.startswith(page) for ms in v]
            found[f"{page}_ms"] = percentiles(every) if every else None
            found[f"{page}_requests"] = len(every)
            for phase in ("accepting", "sending"):
                some = self.samples.get(f"{page}:{phase}", [])
                found[f"{page}_ms_while_{phase}"] = percentiles(some) if some else None
        return found
