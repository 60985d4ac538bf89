"""The chart of a send's deliveries over time, a server-rendered SVG (pygal): how many of its
messages were delivered (green) and how many failed (red) by each moment, from the first
final report to the last. The send page shows it as an image beside the same figures in
words and numbers, so colour is never the only signal. No script runs in it (pygal's own
script is left out, and an image's scripts never run)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pygal
from pygal.style import Style

from api.web.i18n import Texts
from domain.messaging.states import COLOURS, MessageState

BARS = 48
"""At most this many moments on the time axis: the seconds are put together to fit."""
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2330",
    foreground_strong="#1d2330",
    foreground_subtle="#d7dce5",
    colors=("#177245", "#b42318"),
    font_family="system-ui, sans-serif",
    opacity="0.75",
    opacity_hover="0.9",
)
SVG_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
"""The chart's own policy: its styles apply, nothing else loads or runs."""


@dataclass(frozen=True)
class Final:
    """Messages of a send that reached ``state`` within the second ``at``."""

    at: datetime
    state: str
    count: int


def steps(finals: Sequence[Final], bars: int = BARS) -> list[tuple[datetime, int, int]]:
    """The moments of the time axis (at most ``bars``, evenly apart) with the messages
    delivered and failed by then."""
    if not finals:
        return []
    first, last = finals[0].at, finals[-1].at
    width = max(timedelta(seconds=1), (last - first + timedelta(seconds=1)) / bars)
    width = timedelta(seconds=-(-width.total_seconds() // 1))  # whole seconds
    count = int((last - first) / width) + 1
    delivered, failed = [0] * count, [0] * count
    for final in finals:
        colour = COLOURS.get(MessageState(final.state), "grey")
        index = int((final.at - first) / width)
        if colour == "green":
            delivered[index] += final.count
        elif colour == "red":
            failed[index] += final.count
    moments, done, lost = [], 0, 0
    for index in range(count):
        done += delivered[index]
        lost += failed[index]
        moments.append((first + (index + 1) * width, done, lost))
    return moments


def deliveries_chart(finals: Sequence[Final], texts: Texts) -> bytes:
    """The SVG of ``steps``: delivered and failed messages by each moment (Europe/Berlin)."""
    _ = texts.gettext
    moments = steps(finals)
    chart = pygal.StackedLine(
        fill=True, js=[], style=STYLE, width=720, height=300, show_dots=False,
        legend_at_bottom=True, show_x_guides=False, truncate_label=-1,
        x_labels_major_count=6, show_minor_x_labels=False, include_x_axis=True,
        no_data_text=_("No reports yet"),
        value_formatter=texts.number,
    )  # fmt: skip
    chart.x_labels = [texts.clock(at) for at, _done, _lost in moments]
    chart.add(_("Delivered"), [done for _at, done, _lost in moments])
    chart.add(_("Failed"), [lost for _at, _done, lost in moments])
    rendered: bytes = chart.render()
    return rendered
