"""A niced worker's PostgreSQL backends take its priority (adapters/postgres/priority.py)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from adapters.postgres.priority import (
    BackendPriority,
    autogroup_nice,
    follow_priority,
    is_local,
    is_postgres,
    set_autogroup_nice,
)


def backend_pids(database_url: str, name: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def test_the_backends_of_a_process_s_connections_take_its_niceness(database_url: str) -> None:
    name = f"kontor-test-{secrets.token_hex(3)}"
    with (
        ConnectionPool(
            database_url, min_size=2, max_size=2, kwargs={"application_name": name}
        ) as pool,
        psycopg.connect(database_url, application_name="someone-else") as other,
    ):
        pool.wait()
        pids = backend_pids(database_url, name)
        assert len(pids) == 2
        priority = BackendPriority(pool, name, nice=7)
        try:
            assert priority.sweep() == 2
        except PermissionError:
            pytest.skip("this user may not renice the server's processes (nothing is changed)")
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [7, 7]
        if autogroup_nice(pids[0]) is not None:  # the kernel schedules sessions as groups
            assert [autogroup_nice(pid) for pid in pids] == [7, 7]
        assert priority.sweep() == 0  # each backend once
        assert os.getpriority(os.PRIO_PROCESS, other.info.backend_pid) == 0
        assert autogroup_nice(other.info.backend_pid) in (0, None)


def test_only_a_favoured_kontor_process_on_a_local_server_starts_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=1) as pool:
        monkeypatch.setenv("PGAPPNAME", "kontor-carrier")
        assert os.getpriority(os.PRIO_PROCESS, 0) == 0
        assert follow_priority(pool, database_url) is None  # this process is not favoured
        # A niced campaign worker's backends hold the table lock single sends wait for: they
        # keep the server's priority.
        monkeypatch.setattr(os, "getpriority", lambda which, who: 10)
        assert follow_priority(pool, database_url) is None
        monkeypatch.setattr(os, "getpriority", lambda which, who: -5)
        assert follow_priority(pool, "postgresql://db.example.net/kontor") is None
        monkeypatch.setenv("PGAPPNAME", "psql")
        assert follow_priority(pool, database_url) is None
        monkeypatch.setenv("PGAPPNAME", "kontor-carrier-tx")
        started = follow_priority(pool, database_url)  # the API and the transactional lane
        assert started is not None
        assert started.nice == -5
        assert started.thread.is_alive()
        started.close()
        started.thread.join(timeout=10)
        assert not started.thread.is_alive()


def test_local_servers_and_postgres_processes_are_recognised() -> None:
    assert is_local("postgresql://postgres@127.0.0.1:5432/kontor")
    assert is_local("postgresql://localhost/kontor")
    assert is_local("postgresql://[::1]:5432/kontor")
    assert not is_local("postgresql://db.example.net/kontor")
    assert not is_local("postgresql://10.0.0.5/kontor")
    assert not is_postgres(os.getpid())  # a pid that is not a server process is never touched
    assert not is_postgres(2**22 + 17)


def test_backends_of_the_transactional_path_go_ahead_where_permitted(database_url: str) -> None:
    name = f"kontor-test-{secrets.token_hex(3)}"
    with ConnectionPool(
        database_url, min_size=1, max_size=1, kwargs={"application_name": name}
    ) as pool:
        pool.wait()
        [pid] = backend_pids(database_url, name)
        try:
            assert BackendPriority(pool, name, nice=-5).sweep() == 1
        except PermissionError:
            pytest.skip("this user may not raise a process's priority (nothing is changed)")
        assert os.getpriority(os.PRIO_PROCESS, pid) == -5
        if autogroup_nice(pid) is not None:  # the kernel schedules sessions as groups
            assert autogroup_nice(pid) == -5  # the backend leads its own session


LEAD = (
    "import os; from adapters.postgres.priority import lead_session_group;"
    " print(lead_session_group());"
    " os.path.exists('/proc/self/autogroup') and print(open('/proc/self/autogroup').read())"
)


def test_a_process_in_a_session_of_its_own_gives_the_session_its_niceness() -> None:
    """``kontor up`` starts each process in a session of its own: there, a niced process's
    niceness must reach its session's scheduling group, or it only ranks within the group."""
    started = subprocess.run(
        ["nice", "-n", "7", sys.executable, "-c", LEAD],
        capture_output=True,
        text=True,
        start_new_session=True,
        check=True,
    )
    if not Path("/proc/self/autogroup").exists():
        assert started.stdout.strip() == "False"  # nothing to set on this kernel
        return
    led, group = started.stdout.splitlines()[:2]
    assert led == "True"
    assert group.split()[-1] == "7"
    # In the session it was started from (a terminal's, the test run's) nothing changes.
    before = autogroup_nice(os.getpid())
    shared = subprocess.run(
        ["nice", "-n", "7", sys.executable, "-c", LEAD], capture_output=True, text=True, check=True
    )
    assert shared.stdout.splitlines()[0] == "False"
    assert autogroup_nice(os.getpid()) == before


def test_only_a_session_leaders_group_is_reniced() -> None:
    if not Path("/proc/self/autogroup").exists():
        pytest.skip("this kernel does not schedule sessions as groups")
    leader = subprocess.Popen(["sleep", "30"], start_new_session=True)
    member = subprocess.Popen(["sleep", "30"])
    try:
        assert set_autogroup_nice(leader.pid, 4) is True
        assert autogroup_nice(leader.pid) == 4
        before = autogroup_nice(member.pid)
        assert set_autogroup_nice(member.pid, 4) is False  # shares this test run's session
        assert autogroup_nice(member.pid) == before
        assert set_autogroup_nice(2**22 + 17, 4) is False  # gone: nothing to set
    finally:
        for process in (leader, member):
            process.kill()
            process.wait()


@pytest.mark.parametrize(
    ("content", "nice"),
    [
        ("/autogroup-85 nice 0\n", 0),
        ("/autogroup-7 nice -5\n", -5),
        ("/autogroup-12 nice 19\n", 19),
        ("", None),  # the system's default group: a session that never called setsid
        ("garbage\n", None),
    ],
)
def test_a_session_group_s_niceness_is_read_from_proc(
    tmp_path: Path, content: str, nice: int | None
) -> None:
    (tmp_path / "4242").mkdir()
    (tmp_path / "4242" / "autogroup").write_text(content)
    assert autogroup_nice(4242, proc=tmp_path) == nice
    assert autogroup_nice(4243, proc=tmp_path) is None  # no such process


def test_a_process_in_the_system_s_default_group_is_left_alone() -> None:
    """A process whose session never called setsid sits in the default group, whose
    ``/proc/<pid>/autogroup`` is empty: nothing can be set there, and nothing fails."""
    if autogroup_nice(os.getpid()) is not None:
        pytest.skip("this test run leads a session group of its own")
    member = subprocess.Popen(["sleep", "30"])
    try:
        assert set_autogroup_nice(member.pid, 4) is False
        assert autogroup_nice(member.pid) is None
    finally:
        member.kill()
        member.wait()
