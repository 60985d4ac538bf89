"""``kontor up`` announces the platform only when every child is ready, the workers (started
together, as ``parallel`` children) included. The children here are ``sleep`` processes whose
readiness the test decides."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from kontor.supervisor import ChildSpec, Supervisor


def sleeper(
    name: str, ready: set[str], *, timeout: float = 10.0, parallel: bool = True
) -> ChildSpec:
    async def check(pid: int) -> bool:
        return pid > 0 and name in ready

    return ChildSpec(
        name=name, argv=["sleep", "30"], ready=check, parallel=parallel, ready_timeout=timeout
    )


async def test_the_platform_is_announced_once_every_parallel_child_is_ready(tmp_path: Path) -> None:
    ready: set[str] = {"api"}
    announced: list[tuple[float, set[str]]] = []
    children = [sleeper("api", ready, parallel=False), sleeper("w1", ready), sleeper("w2", ready)]
    supervisor = Supervisor(children, log_dir=tmp_path, base_env={"PATH": "/usr/bin:/bin"})

    def announce() -> None:
        announced.append((time.monotonic(), set(ready)))
        supervisor.request_stop()

    supervisor.announce = announce
    run = asyncio.create_task(supervisor.run())
    await asyncio.sleep(1.0)
    assert announced == []  # both workers run, neither is ready
    assert all(c.process is not None and c.process.returncode is None for c in supervisor.children)
    ready.add("w1")
    await asyncio.sleep(0.6)
    assert announced == []
    ready.add("w2")
    assert await asyncio.wait_for(run, timeout=20) == 0
    assert [names for _, names in announced] == [{"api", "w1", "w2"}]


async def test_a_worker_that_never_reports_ready_fails_the_start(tmp_path: Path) -> None:
    ready: set[str] = {"api", "w1"}
    children = [
        sleeper("api", ready, parallel=False),
        sleeper("w1", ready),
        sleeper("w2", ready, timeout=1.0),
    ]
    announced: list[str] = []
    supervisor = Supervisor(
        children,
        log_dir=tmp_path,
        base_env={"PATH": "/usr/bin:/bin"},
        announce=lambda: announced.append("up"),
    )
    assert await asyncio.wait_for(supervisor.run(), timeout=20) == 1
    assert announced == []
    assert all(
        c.process is not None and c.process.returncode is not None for c in supervisor.children
    )
