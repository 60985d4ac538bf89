"""SMPP's absolute time format ``YYMMDDhhmmsstnnp`` (section 7.1.1), as used by final_date.

``t`` is tenths of a second, ``nn`` the offset from UTC in quarter hours and ``p`` its sign
('+' or '-'); ``R`` marks a relative time, which has no absolute meaning and reads as ``None``.
"""

from __future__ import annotations

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
