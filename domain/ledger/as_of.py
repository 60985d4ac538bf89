"""Which moments ledger figures may be asked "as of": the recorded past only.

Balances, the trial balance and statements are built from the events recorded up to a moment;
for a moment after ``now`` there are none yet, so asking for one is refused
(``AsOfInFutureError``) instead of answering today's figures under the later date.
"""

from __future__ import annotations

from datetime import date, datetime

from domain.ledger.billing import BERLIN
from domain.ledger.exceptions import AsOfInFutureError


def past_moment(as_of: datetime | None, now: datetime) -> datetime | None:
    """``as_of`` (a time without offset is Europe/Berlin), refused when after ``now``."""
    if as_of is None:
        return None
    moment = as_of if as_of.tzinfo is not None else as_of.replace(tzinfo=BERLIN)
    if moment > now:
        raise AsOfInFutureError(moment.isoformat(), now)
    return moment


def past_day(day: date | None, now: datetime) -> date | None:
    """A statement's ``from`` or ``to`` day, refused when after today (Europe/Berlin)."""
    if day is not None and day > now.astimezone(BERLIN).date():
        raise AsOfInFutureError(day.isoformat(), now)
    return day
