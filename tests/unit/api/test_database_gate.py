"""The database gate: shut for a while after a failure, open again by itself."""

from __future__ import annotations

from api.availability import RETRY_AFTER, DatabaseGate


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
