"""Run ``kontor up`` as a real process tree for e2e tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from adapters.process import orphan_proof
from tests.support.servers import ROOT


class RunningPlatform:
    def __init__(self, var_dir: Path, extra_env: dict[str, str] | None = None) -> None:
        self.var_dir = var_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
        env.update(
            {
                "KONTOR_VAR_DIR": str(var_dir),
                "KONTOR_HTTP_PORT": "0",
                "KONTOR_METRICS_PORT": "0",
                "KONTOR_RESTART_BACKOFF_MAX": "2",
            }
        )
        env.update(extra_env or {})
        self.state_file = var_dir / "run" / "up.json"
        self.state_file.unlink(missing_ok=True)
        self.output = var_dir.parent / f"{var_dir.name}-supervisor.out"
        var_dir.mkdir(parents=True, exist_ok=True)
        with open(self.output, "ab") as out:
            self.process = subprocess.Popen(
                orphan_proof([sys.executable, "-m", "kontor", "up"]),
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_up(self, timeout: float = 120) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kontor up exited: {self.output.read_text()[-3000:]}")
            if self.state_file.exists():
                state: dict[str, object] = json.loads(self.state_file.read_text())
                return state
            time.sleep(0.2)
        raise TimeoutError(f"kontor up not up: {self.output.read_text()[-3000:]}")

    @property
    def state(self) -> dict[str, object]:
        state: dict[str, object] = json.loads(self.state_file.read_text())
        return state

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def child_pid(self, marker: str) -> int | None:
        for proc in self.descendants():
            try:
                if marker in " ".join(proc.cmdline()):
                    return proc.pid
            except psutil.NoSuchProcess:
                continue
        return None

    def get(self, path: str, timeout: float = 5) -> httpx.Response:
        return httpx.get(str(self.state["api"]) + path, timeout=timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)


def wait_gone(processes: list[psutil.Process], timeout: float = 30) -> list[psutil.Process]:
    """Wait until every process has exited; return those still alive at the deadline."""
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
