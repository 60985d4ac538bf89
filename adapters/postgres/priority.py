"""The database work of the API and the transactional lane at their CPU priority.

``kontor up`` runs the API and the transactional lane's processes ahead of everything else where
the system permits it (nice -5), and campaign work behind (nice 10). But much of a process's
work is done by PostgreSQL, in the server process (backend) that serves each of its
connections, and those run at the server's priority. So a favoured process gives the backends
serving it its own niceness.

It finds them by ``application_name``: ``kontor up`` starts every process with ``PGAPPNAME`` set
to a name of its own. Only a server on this machine is touched (a loopback or Unix-socket
address, a process named ``postgres``), and only when the operating system permits it (a lower
niceness needs root or CAP_SYS_NICE). Otherwise nothing changes and the reason is logged once.
New pool connections are picked up on the next sweep.

A niced campaign worker's backends are left at the server's priority: they hold the event
tables' lock that the API and the transactional lane wait for (eventsourcing serialises inserts
with it), and starving the holder made every single send wait behind it. Measured on the 100k
pipeline benchmark: API p50 81-90 ms with the campaign backends at nice 10, 15 ms without.

Where the kernel schedules by session ("autogroup", ``/proc/sys/kernel/sched_autogroup_enabled``,
on by default in many distributions), niceness only ranks a process within its session, and
the sessions share the CPU equally. Every PostgreSQL backend starts a session of its own
(``setsid``), and all of Kontor's processes used to share one: each busy campaign backend
weighed as much as the API, the simulator, NATS and every worker together, whatever anybody's
niceness. So:

- ``kontor up`` starts each process in a session of its own, and the process gives its session
  its niceness (``lead_session_group``);
- a favoured process's backends get their session's niceness as well
  (``/proc/<pid>/autogroup``; a backend is alone in its session).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
LOCAL_HOSTS = frozenset({"", "localhost", "127.0.0.1", "::1"})


def is_local(database_url: str) -> bool:
    host = urlsplit(database_url).hostname or ""
    return host in LOCAL_HOSTS or host.startswith("/")


def autogroup_nice(pid: int, proc: Path = Path("/proc")) -> int | None:
    """The niceness of ``pid``'s session scheduling group (``/proc/<pid>/autogroup`` reads
    ``/autogroup-<id> nice <n>``). None where there is none: no autogroup support, the process
    is gone, or it is still in the system's default group, whose file is empty (a session that
    never called ``setsid``, such as a CI runner's)."""
    try:
        fields = (proc / str(pid) / "autogroup").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if len(fields) != 3 or fields[1] != "nice":
        return None
    try:
        return int(fields[2])
    except ValueError:
        return None


def set_autogroup_nice(pid: int, nice: int, proc: Path = Path("/proc")) -> bool:
    """Give the scheduling group (autogroup) of ``pid``'s session the niceness ``nice`` if
    ``pid`` leads that session (a session shared with a terminal is never touched); False
    where nothing was set (not a leader, no group of its own, no autogroup support). PermissionError
    if the system does not permit it (a lower niceness needs root or CAP_SYS_NICE)."""
    try:
        if os.getsid(pid) != pid:
            return False
    except ProcessLookupError:
        return False
    current = autogroup_nice(pid, proc)
    if current is None:
        return False
    if current == nice:
        return True
    try:
        (proc / str(pid) / "autogroup").write_text(str(nice))
    except PermissionError:
        raise
    except OSError:  # gone meanwhile, or the kernel refused the group (EINVAL)
        return False
    return True


def lead_session_group() -> bool:
    """Give this process's session group its niceness, if the process leads a session of its
    own (``kontor up`` starts each process in one, see ``kontor.processes``): without it, a
    niced or favoured process would weigh exactly as much as any other session. False where
    nothing changed (not a session leader, no autogroup support, not permitted)."""
    pid = os.getpid()
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        return set_autogroup_nice(pid, nice)
    except PermissionError as exc:
        log.info("this process's session keeps its priority", extra={"reason": str(exc)})
        return False


def is_postgres(pid: int, proc: Path = Path("/proc")) -> bool:
    try:
        return (proc / str(pid) / "comm").read_text().strip().startswith("postgres")
    except OSError:
        return False


class BackendPriority:
    """Gives the PostgreSQL backends of this process's connections its niceness (the process's
    and their sessions'), every ``SWEEP_SECONDS`` on a daemon thread, until ``close``."""

    def __init__(self, pool: Any, application_name: str, nice: int) -> None:
        self.pool = pool
        self.application_name = application_name
        self.nice = nice
        self.done: set[int] = set()
        self.autogroups = True
        """Whether session groups may be reniced (False after the system refused once)."""
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pg-priority", daemon=True)

    def start(self) -> BackendPriority:
        self.thread.start()
        return self

    def close(self) -> None:
        self.stopped.set()

    def sweep(self) -> int:
        """Renice the backends not seen before; returns how many were reniced."""
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                (self.application_name,),
            ).fetchall()
        reniced = 0
        for (pid,) in rows:
            if pid in self.done or not is_postgres(pid):
                continue
            if os.getpriority(os.PRIO_PROCESS, pid) != self.nice:
                os.setpriority(os.PRIO_PROCESS, pid, self.nice)
                reniced += 1
            if self.autogroups:
                try:
                    set_autogroup_nice(pid, self.nice)
                except PermissionError as exc:
                    self.autogroups = False
                    log.info("database sessions keep their priority", extra={"reason": str(exc)})
            self.done.add(pid)
        return reniced

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.sweep()
            except PermissionError as exc:
                log.info("database backends keep their priority", extra={"reason": str(exc)})
                return
            except Exception:
                log.warning("could not renice database backends", exc_info=True)
            self.stopped.wait(SWEEP_SECONDS)


def follow_priority(pool: Any, database_url: str) -> BackendPriority | None:
    """Start ``BackendPriority`` if this process runs ahead of the others (a negative niceness,
    where permitted), under a ``PGAPPNAME`` of its own, against a server on this machine;
    ``None`` otherwise (a niced campaign worker's backends are left alone: see above)."""
    nice = os.getpriority(os.PRIO_PROCESS, 0)
    name = os.environ.get("PGAPPNAME", "")
    if nice >= 0 or not name.startswith("kontor-") or not is_local(database_url):
        return None
    return BackendPriority(pool, name, nice).start()
