"""The deliveries chart: seconds put together into at most ``BARS`` moments, delivered and
failed counted up to each, and an SVG that loads and runs nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from api.web.charts import BARS, Final, deliveries_chart, steps
from api.web.i18n import Texts

START = datetime(2026, 12, 4, 9, 0, 0, tzinfo=UTC)


def test_seconds_add_up_to_what_was_delivered_and_failed_by_each_moment() -> None:
    finals = [
        Final(START, "delivered", 3),
        Final(START, "failed", 1),
        Final(START + timedelta(seconds=1), "delivered", 2),
        Final(START + timedelta(seconds=2), "rejected", 1),
        Final(START + timedelta(seconds=2), "cancelled", 5),  # grey: neither
    ]
    assert steps(finals) == [
        (START + timedelta(seconds=1), 3, 1),
        (START + timedelta(seconds=2), 5, 1),
        (START + timedelta(seconds=3), 5, 2),
    ]
    assert steps([]) == []


def test_a_long_send_is_shown_in_at_most_bars_moments_and_loses_nothing() -> None:
    finals = [Final(START + timedelta(seconds=7 * i), "delivered", 1) for i in range(1000)]
    moments = steps(finals)
    assert len(moments) <= BARS
    assert moments[-1][1:] == (1000, 0)
    assert [done for _, done, _ in moments] == sorted(done for _, done, _ in moments)


def test_the_chart_names_its_series_in_the_reader_s_language_and_loads_nothing() -> None:
    svg = deliveries_chart([Final(START, "delivered", 1234)], Texts("de")).decode()
    assert svg.startswith("<?xml")
    assert "Zugestellt" in svg
    assert "Fehlgeschlagen" in svg
    assert "10:00:01" in svg  # the moment in Europe/Berlin
    assert not re.search(r'(src|href)="(https?:)?//', svg)
    assert "<script" not in svg or "src=" not in svg.split("<script", 1)[1].split(">", 1)[0]
    empty = deliveries_chart([], Texts("en")).decode()
    assert "No reports yet" in empty
