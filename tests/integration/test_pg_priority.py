"""A niced worker's PostgreSQL backends take its priority (adapters/pgpriority.py)."""

from __future__ import annotations

import os
import secrets

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from adapters.pgpriority import BackendPriority, follow_priority, is_local, is_postgres


def backend_pids(database_url: str, name: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (name,)
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def test_the_backends_of_a_niced_workers_connections_take_its_niceness(database_url: str) -> None:
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
        assert priority.sweep() == 0  # each backend once
        assert os.getpriority(os.PRIO_PROCESS, other.info.backend_pid) == 0


def test_only_a_niced_kontor_worker_on_a_local_server_starts_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=1) as pool:
        monkeypatch.setenv("PGAPPNAME", "kontor-carrier")
        assert os.getpriority(os.PRIO_PROCESS, 0) == 0
        assert follow_priority(pool, database_url) is None  # this process is not niced
        monkeypatch.setattr(os, "getpriority", lambda which, who: 10)
        assert follow_priority(pool, "postgresql://db.example.net/kontor") is None
        monkeypatch.setenv("PGAPPNAME", "psql")
        assert follow_priority(pool, database_url) is None
        monkeypatch.setenv("PGAPPNAME", "kontor-carrier")
        for nice in (10, -5):  # a niced worker, and the API ahead of it where permitted
            monkeypatch.setattr(os, "getpriority", lambda which, who, nice=nice: nice)
            started = follow_priority(pool, database_url)
            assert started is not None
            assert started.nice == nice
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
