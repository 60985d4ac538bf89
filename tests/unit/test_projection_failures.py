"""The rules for an event a projection cannot apply: which event is to blame, and when to try it
again (the runner applies them in PostgreSQL; tests/integration/api/test_read_side_survival.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from projections.failures import ERROR_TEXT_MAX, Backoff, Failure, error_text, first_failure


def test_the_back_off_doubles_from_a_second_up_to_a_minute() -> None:
    delays = [Backoff().delay(attempts) for attempts in range(1, 10)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert Backoff().delay(10**9) == 60.0  # no overflow after months of attempts
    assert Backoff(first=0.5, cap=3.0).delay(4) == 3.0


def test_everything_before_the_culprit_applies_and_nothing_after_it() -> None:
    applied: list[int] = []

    def apply(item: int) -> None:
        if item == 13:
            raise ValueError("unlucky")
        applied.append(item)

    found = first_failure([11, 12, 13, 14, 15], apply)
    assert found is not None
    count, culprit, error = found
    assert (count, culprit, applied) == (2, 13, [11, 12])
    assert isinstance(error, ValueError)


def test_a_batch_that_applies_event_by_event_names_no_culprit() -> None:
    applied: list[str] = []
    assert first_failure(["a", "b"], applied.append) is None
    assert applied == ["a", "b"]


def test_a_culprit_first_in_line_leaves_everything_unapplied() -> None:
    def refuse(item: int) -> None:
        raise RuntimeError(str(item))

    found = first_failure([7, 8], refuse)
    assert found is not None
    assert found[:2] == (0, 7)


def test_an_error_is_kept_with_its_type_and_at_most_a_thousand_characters() -> None:
    assert error_text(ValueError("bad")) == "ValueError: bad"
    assert len(error_text(ValueError("x" * 5000))) == ERROR_TEXT_MAX


def test_a_failure_names_its_event_in_one_line() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    failure = Failure(
        "messaging", "Messaging", 812, "domain.messaging.send:Send.Accepted",
        UUID(int=1), 1, "DataError: NUL", now, now, 3, now,
    )  # fmt: skip
    assert failure.event == (
        "notification 812 (domain.messaging.send:Send.Accepted"
        " of 00000000-0000-0000-0000-000000000001 v1)"
    )
