"""SMPP's time formats: absolute (final_date, validity_period) and relative (validity_period)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from adapters.smpp.smpptime import (
    MAX_RELATIVE,
    format_relative_smpp_time,
    format_smpp_time,
    parse_relative_smpp_time,
    parse_smpp_time,
    relative_smpp_time,
)


def test_a_relative_time_says_days_hours_minutes_and_seconds() -> None:
    assert format_relative_smpp_time(timedelta(hours=72)) == "000003000000000R"
    assert format_relative_smpp_time(timedelta(seconds=90)) == "000000000130000R"
    assert format_relative_smpp_time(timedelta(days=1, hours=2, minutes=3, seconds=4.9)) == (
        "000001020304000R"
    )


def test_a_relative_time_is_at_least_a_second_and_at_most_what_the_format_can_say() -> None:
    assert format_relative_smpp_time(timedelta(seconds=-5)) == "000000000001000R"
    assert format_relative_smpp_time(timedelta(days=400)) == "000099235959000R"


@given(st.integers(min_value=1, max_value=int(MAX_RELATIVE.total_seconds())))
def test_relative_times_read_back_as_written(seconds: int) -> None:
    period = timedelta(seconds=seconds)
    assert parse_relative_smpp_time(format_relative_smpp_time(period)) == period


@given(st.integers(min_value=-10, max_value=10**8))
def test_the_remembered_relative_time_of_whole_seconds_is_the_formatted_one(seconds: int) -> None:
    expected = format_relative_smpp_time(timedelta(seconds=seconds))
    assert relative_smpp_time(seconds) == expected
    assert relative_smpp_time(seconds) == expected  # asked again: from the cache


def test_years_and_months_count_as_365_and_30_days() -> None:
    assert parse_relative_smpp_time("010200000000000R") == timedelta(days=425)


def test_only_relative_times_read_as_periods() -> None:
    absolute = format_smpp_time(datetime(2026, 11, 25, 13, 35, tzinfo=UTC))
    assert parse_relative_smpp_time(absolute) is None
    assert parse_relative_smpp_time("") is None
    assert parse_relative_smpp_time("00000300000000R") is None  # 15 characters
    assert parse_smpp_time("000003000000000R") is None
    assert parse_smpp_time(absolute) == datetime(2026, 11, 25, 13, 35, tzinfo=UTC)
