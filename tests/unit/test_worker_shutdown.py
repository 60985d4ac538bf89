"""A worker told to stop goes, even when its graceful stop hangs (NATS or PostgreSQL gone): the
process exits on its own a grace period after SIGTERM, instead of living on as an orphan."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

HUNG_WORKER = textwrap.dedent(
    """
    import sys, time
    import workers.runtime as runtime
    runtime.SHUTDOWN_GRACE = 0.5
    stop = runtime.stop_event_on_signals("test")
    print("ready", flush=True)
    stop.wait()
    print("stopping", flush=True)
    time.sleep(60)  # a close that never returns
    """
)


def test_a_worker_whose_stop_hangs_exits_after_the_grace_period() -> None:
    child = subprocess.Popen([sys.executable, "-c", HUNG_WORKER], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 1
        assert 0.4 < time.monotonic() - started < 15
        assert child.stdout.readline().strip() == "stopping"
    finally:
        child.kill()
        child.wait()


def test_a_worker_that_stops_in_time_is_not_cut_short() -> None:
    script = HUNG_WORKER.replace("time.sleep(60)  # a close that never returns", "sys.exit(0)")
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=20) == 0
    finally:
        child.kill()
        child.wait()
