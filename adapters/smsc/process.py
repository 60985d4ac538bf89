"""The simulator as a child process: start ``kontor smsc-sim``, wait for its ready line, stop it.

Used by tests, benchmarks and whoever else needs a carrier on loopback. The child is tied to
this process (``orphan_proof``), listens on a port the kernel picks unless one is given, and
writes its logs next to its record.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from adapters.process import orphan_proof


class SimulatorStartError(RuntimeError):
    """The simulator exited or stayed silent instead of printing its ready line."""


class SimulatorProcess:
    def __init__(
        self,
        record: Path,
        args: list[str],
        *,
        account: tuple[str, str] = ("kontor", "secret"),
        port: int = 0,
        cwd: Path | None = None,
    ) -> None:
        self.record_path = record
        self.args = args
        self.account = account
        self.port = port
        self.host = "127.0.0.1"
        self.cwd = cwd
        self.log_path = record.with_suffix(".log")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start (again, on the same port once one was picked) and wait until it listens."""
        argv = [sys.executable, "-m", "kontor", "smsc-sim", "--port", str(self.port)]
        argv += ["--record", str(self.record_path), "--account", ":".join(self.account)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("KONTOR_")}
        env["KONTOR_LOG_LEVEL"] = "WARNING"
        self.record_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                orphan_proof([*argv, *self.args]),
                cwd=self.cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        ready = self._ready_line(timeout)
        self.host, self.port = str(ready["host"]), int(ready["port"])

    def _ready_line(self, timeout: float) -> dict[str, Any]:
        process = self.process
        if process is None or process.stdout is None:
            raise SimulatorStartError("not started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            readable, _, _ = select.select([process.stdout], [], [], 0.1)
            if readable:
                line = process.stdout.readline()
                if line:
                    ready: dict[str, Any] = json.loads(line)
                    return ready
            if process.poll() is not None:
                break
        self.kill()
        log = self.log_path.read_text(errors="replace")[-3000:]
        raise SimulatorStartError(f"smsc-sim did not start: {log}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the simulator and wait; its exit code (negative: ended by a signal)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
