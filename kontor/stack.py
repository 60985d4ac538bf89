"""The whole send path as real processes: the SMSC simulator, every worker and the API, each a
``kontor`` child process on the given PostgreSQL and NATS. The e2e tests and the pipeline
benchmark run it; tests kill and restart its processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from adapters.carriers import simulator_carriers
from adapters.embedded import free_port
from adapters.process import orphan_proof
from adapters.smsc.process import SimulatorProcess
from adapters.smsc.reader import SmscRecord
from kontor.processes import TX_NICE, database_name, instances, niced
from settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEND_WORKERS = frozenset(
    {"relay", "dispatcher", "carrier", "ingest", "settlement", "expander", "projections"}
)


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
    for name, value in vars(settings).items():
        if value is not None:
            env[f"KONTOR_{name.upper()}"] = str(value)
    env["KONTOR_LOG_LEVEL"] = "INFO"
    return env


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        workdir: Path,
        sim_args: list[str] | None = None,
        *,
        tps: float = 3000,
    ):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.simulator = SimulatorProcess(workdir / "smsc" / "record.sqlite", sim_args or [])
        self.simulator.start()
        carriers = workdir / "carriers.toml"
        carriers.write_text(simulator_carriers(self.simulator.port, "kontor", "secret", tps=tps))
        self.api_port = free_port()
        self.settings = replace(
            settings, carriers_file=carriers, http_port=self.api_port, metrics_port=0
        )
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.workers = {p.name: p for p in instances(self.settings)}
        self.base_url = f"http://127.0.0.1:{self.api_port}"
        self._lock = threading.RLock()
        """Starts, kills and revivals come from a test and a supervising thread at once: a
        process started twice under one name would outlive the pipeline, untracked."""
        self._stopped = False

    # -- processes -------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start the API or a worker process by its ``kontor up`` name (``carrier-tx``...);
        nothing if it is running (a supervising thread's ``revive`` may have been first)."""
        with self._lock:
            running = self.processes.get(name)
            if running is not None and running.poll() is None:
                return
            self._start(name)

    def _start(self, name: str) -> None:
        if name == "api":
            argv = niced([sys.executable, "-m", "kontor", "api"], TX_NICE)
            env = database_name("api")
        else:
            process = self.workers[name]
            argv = niced([sys.executable, "-m", "kontor", "worker", process.worker], process.nice)
            env = process.env
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            orphan_proof(argv),
            cwd=ROOT,
            env={**settings_env(self.settings), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_all(self) -> None:
        self.start("api")
        self.wait_ready()
        for name, process in self.workers.items():
            if process.worker in SEND_WORKERS:
                self.start(name)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes["api"].poll() is not None:
                break
            try:
                if httpx.get(self.base_url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"API not ready: {self.log('api')[-2000:]}")

    def kill(self, name: str) -> None:
        with self._lock:
            process = self.processes[name]
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)

    def restart(self, name: str) -> None:
        with self._lock:
            self.kill(name)
            self._start(name)

    def revive(self) -> list[str]:
        """Start again every process that exited (what ``kontor up``'s supervisor does)."""
        revived: list[str] = []
        with self._lock:
            if self._stopped:  # stopping: an exited process is meant to be gone
                return revived
            for name, process in list(self.processes.items()):
                if process.poll() is not None:
                    self._start(name)
                    revived.append(name)
        return revived

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        self.simulator.stop()

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def record(self) -> SmscRecord:
        return SmscRecord(self.simulator.record_path)

    # -- talking to it ---------------------------------------------------------------------

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60)

    def wait_for(self, check: Callable[[], Any], timeout: float = 60, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(0.2)
        logs = {n: self.log(n)[-1500:] for n in self.processes}
        raise AssertionError(f"timed out waiting for {what}: last={last!r}\n{logs}")
