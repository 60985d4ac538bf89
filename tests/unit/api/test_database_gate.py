"""The database gate: shut for a while after a failure, open again by itself."""

from __future__ import annotations

import psycopg
import psycopg_pool
import pytest
from eventsourcing import persistence

from api.availability import RETRY_AFTER, DatabaseGate, is_database_error


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_failure_shuts_the_gate_for_the_retry_after_it_names() -> None:
    clock = Clock()
    gate = DatabaseGate(clock)
    assert gate.retry_after() == 0
    assert gate.failed() == RETRY_AFTER
    clock.now += 1.2
    assert gate.retry_after() == 4  # whole seconds, rounded up
    clock.now += RETRY_AFTER
    assert gate.retry_after() == 0  # requests try the database again


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 4.00 sec"),
        psycopg.InterfaceError("the connection is closed"),
        persistence.OperationalError("connection refused"),
        persistence.InterfaceError("connection lost"),
    ],
)
def test_an_outage_of_the_server_or_its_connections_is_a_database_error(
    error: Exception,
) -> None:
    assert is_database_error(error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        psycopg.errors.NumericValueOutOfRange("bigint out of range"),
        psycopg.IntegrityError("duplicate key value violates unique constraint"),
        persistence.DataError("value too long"),
        persistence.ProgrammingError("syntax error"),
    ],
)
def test_a_refused_statement_is_not_an_outage(error: Exception) -> None:
    """Trying again cannot help: such an error must neither shut the gate for every request
    nor be retried for ever by a worker that keeps answers until the database takes them."""
    assert not is_database_error(error)
