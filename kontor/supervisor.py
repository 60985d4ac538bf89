"""``kontor up``: start the whole platform in order, keep it running, stop all of it.

Children start one after another and each must report ready before the next starts (a
PostgreSQL server before the API that needs it), except those marked ``parallel`` (the workers):
they start together, each restarted at once if it exits, and the platform is announced only
when every one of them is ready too. A child that exits while the platform runs is
restarted with exponential back-off. Ctrl-C or SIGTERM stops the children in reverse order. Every
child is started with the parent-death signal set, so a SIGKILLed supervisor leaves none behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from adapters.process import orphan_proof

log = logging.getLogger("kontor.supervisor")

ReadyCheck = Callable[[int], Awaitable[bool]]
"""Whether the child, running as the given pid, is ready."""
WAITING_NOTE_EVERY = 15.0
"""Seconds between the notes naming the parallel children not ready yet."""


@dataclass
class ChildSpec:
    """One supervised process: how to start it, how to tell it is ready, how to stop it."""

    name: str
    argv: list[str]
    ready: ReadyCheck | None = None
    env: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    stop_signal: int = signal.SIGTERM
    ready_timeout: float = 60.0
    stop_timeout: float = 15.0
    after_ready: Callable[[], Awaitable[None]] | None = None
    before_start: Callable[[], Awaitable[None]] | None = None
    """Run once before the first start (the API's: the database migrations)."""
    parallel: bool = False
    """Start the next child without waiting for this one; the platform is announced once it
    is ready (it may exit and be restarted meanwhile)."""


@dataclass
class Child:
    spec: ChildSpec
    process: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = None


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        log_dir: Path,
        base_env: dict[str, str],
        backoff_max: float = 30.0,
        announce: Callable[[], None] | None = None,
    ) -> None:
        self.children = [Child(spec) for spec in specs]
        self.log_dir = log_dir
        self.base_env = base_env
        self.backoff_max = backoff_max
        self.announce = announce
        self._stopping = asyncio.Event()

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            parallel: list[Child] = []
            for child in self.children:
                if self._stopping.is_set():
                    break
                if child.spec.before_start is not None:
                    await child.spec.before_start()
                await self._start(child)
                if child.spec.parallel:
                    child.watcher = asyncio.create_task(self._watch(child))
                    parallel.append(child)
                    continue
                if not await self._wait_ready(child):
                    return self._not_ready(child)
                if child.spec.after_ready is not None:
                    await child.spec.after_ready()
                child.watcher = asyncio.create_task(self._watch(child))
            late = await self._wait_all_ready(parallel)
            if late is not None:
                return self._not_ready(late)
            if not self._stopping.is_set() and self.announce is not None:
                self.announce()
            await self._stopping.wait()
            return 0
        finally:
            await self._stop_all()

    def _not_ready(self, child: Child) -> int:
        log.error("child not ready", extra={"child": child.spec.name})
        print(
            f"kontor up: {child.spec.name} did not become ready; see {self._log_path(child)}",
            file=sys.stderr,
            flush=True,
        )
        return 1

    async def _wait_all_ready(self, children: list[Child]) -> Child | None:
        """Wait for the parallel children (restarted if they exit meanwhile); the first that
        is not ready in its time, or None."""
        if not children:
            return None
        waits = {
            child.spec.name: asyncio.create_task(self._wait_ready(child, exits_end_it=False))
            for child in children
        }
        try:
            while True:
                done, pending = await asyncio.wait(waits.values(), timeout=WAITING_NOTE_EVERY)
                for child in children:
                    task = waits[child.spec.name]
                    if task in done and not task.result() and not self._stopping.is_set():
                        return child
                if not pending:
                    return None
                names = [c.spec.name for c in children if waits[c.spec.name] in pending]
                print(f"kontor up: waiting for {', '.join(names)}", file=sys.stderr, flush=True)
        finally:
            for task in waits.values():
                task.cancel()

    def _log_path(self, child: Child) -> Path:
        return self.log_dir / f"{child.spec.name}.log"

    async def _start(self, child: Child) -> None:
        spec = child.spec
        logfile = open(self._log_path(child), "ab")  # noqa: SIM115 - handed to the child
        try:
            child.process = await asyncio.create_subprocess_exec(
                *orphan_proof(spec.argv, spec.stop_signal),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=logfile,
                stderr=asyncio.subprocess.STDOUT,
                env={**self.base_env, **spec.env},
                user=spec.user,
                start_new_session=True,
            )
        finally:
            logfile.close()
        child.started_at = time.monotonic()
        log.info("child started", extra={"child": spec.name, "pid": child.process.pid})

    async def _wait_ready(self, child: Child, *, exits_end_it: bool = True) -> bool:
        """Poll the child's ready check until it says so or ``ready_timeout`` passes; a child
        that exits ends the wait (unless ``exits_end_it`` is false: its watcher restarts it and
        the check then asks about the new process)."""
        check = child.spec.ready
        if check is None:
            return True
        deadline = time.monotonic() + child.spec.ready_timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            process = child.process
            if process is not None and process.returncode is None:
                with contextlib.suppress(Exception):
                    if await check(process.pid):
                        return True
            elif exits_end_it:
                return False
            await asyncio.sleep(0.2)
        return False

    async def _watch(self, child: Child) -> None:
        """Wait for the child to exit; unless we are stopping, restart it with back-off."""
        while not self._stopping.is_set():
            process = child.process
            if process is None:
                return
            code = await process.wait()
            if self._stopping.is_set():
                return
            uptime = time.monotonic() - child.started_at
            if uptime > 60:
                child.restarts = 0
            delay = min(self.backoff_max, 0.5 * (2**child.restarts))
            child.restarts += 1
            log.warning(
                "child exited; restarting",
                extra={"child": child.spec.name, "code": code, "delay": delay},
            )
            print(
                f"kontor up: {child.spec.name} exited with {code}; restarting in {delay:.1f}s",
                file=sys.stderr,
                flush=True,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            if self._stopping.is_set():
                return
            await self._start(child)
            if await self._wait_ready(child) and child.spec.after_ready is not None:
                await child.spec.after_ready()

    async def _stop_all(self) -> None:
        self._stopping.set()
        for child in reversed(self.children):
            if child.watcher is not None:
                child.watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await child.watcher
            await self._stop(child)

    async def _stop(self, child: Child) -> None:
        process = child.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(child.spec.stop_signal)
        try:
            await asyncio.wait_for(process.wait(), timeout=child.spec.stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        log.info("child stopped", extra={"child": child.spec.name, "code": process.returncode})

    def pids(self) -> dict[str, int]:
        return {c.spec.name: c.process.pid for c in self.children if c.process is not None}


def write_state(path: Path, state: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)
