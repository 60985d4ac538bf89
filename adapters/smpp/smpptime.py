"""SMPP's absolute time format ``YYMMDDhhmmsstnnp`` (section 7.1.1), as used by final_date.

``t`` is tenths of a second, ``nn`` the offset from UTC in quarter hours and ``p`` its sign
('+' or '-'); ``R`` marks a relative time, which has no absolute meaning and reads as ``None``.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta


def format_smpp_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%y%m%d%H%M%S") + f"{utc.microsecond // 100_000}00+"


def parse_smpp_time(value: str) -> datetime | None:
    if len(value) != 16 or value[15] not in "+-" or not value[:15].isdigit():
        return None
    try:
        local = datetime.strptime(value[:12], "%y%m%d%H%M%S")
    except ValueError:
        return None
    offset = timedelta(minutes=15 * int(value[13:15]))
    if value[15] == "-":
        offset = -offset
    tenths = timedelta(milliseconds=100 * int(value[12]))
    return (local + tenths - offset).replace(tzinfo=UTC)


MAX_RELATIVE = timedelta(days=99, hours=23, minutes=59, seconds=59)
"""The longest relative time the format's fields can say without months or years."""


def format_relative_smpp_time(period: timedelta) -> str:
    """A relative time (``000003000000000R``: three days), as a submit_sm's validity_period:
    the SMSC drops a message it could not deliver within it. Whole seconds, at least one,
    at most ``MAX_RELATIVE``."""
    seconds = int(min(max(period, timedelta(seconds=1)), MAX_RELATIVE).total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    return f"0000{days:02d}{hours:02d}{minutes:02d}{seconds:02d}000R"


@functools.lru_cache(maxsize=1024)
def relative_smpp_time(seconds: int) -> str:
    """``format_relative_smpp_time`` of whole seconds, remembered: a campaign's messages share
    their send's deadline, so the carrier sender asks for the same few values all the time."""
    return format_relative_smpp_time(timedelta(seconds=seconds))


def parse_relative_smpp_time(value: str) -> timedelta | None:
    """The period of a relative time (``YYMMDDhhmmss000R``; a year as 365 days, a month as 30),
    or ``None`` when ``value`` is not one."""
    if len(value) != 16 or value[15] != "R" or not value[:15].isdigit():
        return None
    years, months, days, hours, minutes, seconds = (int(value[i : i + 2]) for i in range(0, 12, 2))
    return timedelta(
        days=365 * years + 30 * months + days, hours=hours, minutes=minutes, seconds=seconds
    )
