"""Ledger figures are asked as of the recorded past only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.ledger.as_of import past_day, past_moment
from domain.ledger.exceptions import AsOfInFutureError

NOW = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)  # 23:30 in Berlin: still 2 March there


def test_a_moment_up_to_now_is_kept_and_a_later_one_refused() -> None:
    assert past_moment(None, NOW) is None
    assert past_moment(NOW, NOW) == NOW
    assert past_moment(datetime(2026, 3, 2, 23, 30), NOW) == NOW  # Berlin local time
    with pytest.raises(AsOfInFutureError) as refused:
        past_moment(NOW + timedelta(seconds=1), NOW)
    assert refused.value.now == NOW.isoformat()
    with pytest.raises(AsOfInFutureError):
        past_moment(datetime(2026, 3, 2, 23, 31), NOW)


def test_a_statement_day_after_today_in_berlin_is_refused() -> None:
    assert past_day(date(2026, 3, 2), NOW) == date(2026, 3, 2)
    with pytest.raises(AsOfInFutureError):
        past_day(date(2026, 3, 3), NOW)
