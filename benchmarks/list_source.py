"""What ``kontor bench pipeline --source list`` adds: the campaign's recipients come from a list
imported through the API (a CSV of ``Vorname;Handy``), as a customer with a big list sends;
the acceptance runs in the background, and while it does other requests of the API are timed;
every process's resident memory is sampled throughout."""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.support import percentiles
from kontor.stack import Pipeline

NAMES = ("Anna", "Jürgen", "Zoë")


def list_csv(recipients: int) -> bytes:
    """The list the inline campaign sends to, as a customer's file."""
    rows = (f"{NAMES[n % 3]};0151{n:08d}\n" for n in range(recipients))
    return ("Vorname;Handy\n" + "".join(rows)).encode()


def import_list(
    client: httpx.Client, headers: dict[str, str], recipients: int, timeout: float
) -> tuple[str, float]:
    """Create a list and import ``recipients`` numbers into it; its id and the seconds from
    the upload until the import was done."""
    made = client.post("/v1/lists", json={"name": "bench"}, headers=headers)
    made.raise_for_status()
    list_id: str = made.json()["id"]
    content = list_csv(recipients)
    started = time.time()
    uploaded = client.post(
        f"/v1/lists/{list_id}/imports",
        files={"file": ("kunden.csv", content, "text/csv")},
        headers=headers,
        timeout=600,
    )
    if uploaded.status_code != 202:
        raise SystemExit(f"the import was refused: {uploaded.text}")
    job_id = uploaded.json()["id"]
    deadline = started + timeout
    while time.time() < deadline:
        job = client.get(f"/v1/imports/{job_id}", headers=headers).json()
        if job["state"] == "done":
            return list_id, time.time() - started
        if job["state"] == "failed":
            raise SystemExit(f"the import failed: {job}")
        time.sleep(0.5)
    raise SystemExit(f"the import did not finish within {timeout} s")


def wait_accepted(
    client: httpx.Client, headers: dict[str, str], campaign_id: str, timeout: float
) -> tuple[float, dict[str, Any]]:
    """Poll the campaign until its list is accepted; when, and the campaign then."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        campaign: dict[str, Any] = client.get(
            f"/v1/campaigns/{campaign_id}", headers=headers
        ).json()
        state = (campaign.get("acceptance") or {}).get("state")
        if state == "accepted":
            return time.time(), campaign
        if state in ("refused", "cancelled"):
            raise SystemExit(f"the campaign was not accepted: {campaign}")
        time.sleep(0.25)
    raise SystemExit(f"the list was not accepted within {timeout} s")


@dataclass
class ApiProbe:
    """Other requests of the same customer while the campaign is accepted: the balance and
    the campaign list, one every ``interval`` seconds; their latency."""

    pipeline: Pipeline
    headers: dict[str, str]
    interval: float = 0.1
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        shown = percentiles(self.latencies) if self.latencies else None
        return {"requests": len(self.latencies), "errors": self.errors, "ms": shown}

    def _run(self) -> None:
        paths = ("/v1/account/balance", "/v1/campaigns?limit=10")
        with httpx.Client(base_url=self.pipeline.base_url, timeout=30) as client:
            n = 0
            while not self._stop.is_set():
                started = time.perf_counter()
                answer = client.get(paths[n % 2], headers=self.headers)
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.errors += answer.status_code != 200
                n += 1
                self._stop.wait(self.interval)


_KIND = re.compile(r"-(\d+|tx)$")


@dataclass
class RssSampler:
    """Every ``interval`` seconds, each pipeline process's resident memory with its children
    (the imports worker's row pool); the peak per process kind (``carrier-2`` is a
    ``carrier``, ``relay-tx`` a ``relay``), in MB."""

    pipeline: Pipeline
    interval: float = 0.5
    peaks: dict[str, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return {kind: round(mb, 1) for kind, mb in sorted(self.peaks.items())}

    def _run(self) -> None:
        while not self._stop.is_set():
            children = _children()
            for name, process in list(self.pipeline.processes.items()):
                kind = _KIND.sub("", name)
                mb = sum(_rss_kb(pid) for pid in _tree(process.pid, children)) / 1024
                self.peaks[kind] = max(self.peaks.get(kind, 0.0), mb)
            self._stop.wait(self.interval)


def _children() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        found.setdefault(parent, []).append(int(entry))
    return found


def _tree(pid: int, children: dict[int, list[int]]) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(children.get(current, ()))
    return pids


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
