"""Query parameters, one rule everywhere: a value the endpoint cannot use is a 422 problem.

Every list endpoint takes ``limit`` between 1 and its maximum, a ``state`` only from the
states that exist, a ``format`` only of ``json`` or ``csv``, a ``cursor`` only as a previous
page gave it, and a time range only with ``from`` not after ``to``; texts obey the edge's text
rules (``api.schemas.common``). None of them is clamped or ignored silently.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from litestar.params import QueryParameter

from api.errors import ProblemError
from api.schemas.common import LINE_PATTERN
from domain.ledger.billing import BERLIN
from domain.messaging.states import MessageState

Format = Annotated[Literal["json", "csv"], QueryParameter(description="json (the default) or csv")]
StateFilter = Annotated[
    MessageState | None, QueryParameter(name="state", description="only messages in this state")
]
NumberQuery = Annotated[
    str | None, QueryParameter(min_length=1, max_length=64, pattern=LINE_PATTERN)
]
TextQuery = Annotated[
    str | None, QueryParameter(min_length=1, max_length=200, pattern=LINE_PATTERN)
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        min_length=1,
        max_length=200,
        pattern=LINE_PATTERN,
        description="next_cursor of the previous page, as given",
    ),
]


Limit1000 = Annotated[int, QueryParameter(ge=1, le=1_000, description="page size, 1 to 1000")]
Limit500 = Annotated[int, QueryParameter(ge=1, le=500, description="page size, 1 to 500")]
Limit10000 = Annotated[int, QueryParameter(ge=1, le=10_000, description="page size, 1 to 10000")]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=BERLIN)


def check_range(start: datetime | date | None, end: datetime | date | None) -> None:
    """Refuse ``from`` after ``to`` (an empty answer would hide the mistake); a time without
    offset is Europe/Berlin local time, as everywhere in the API."""
    if start is None or end is None:
        return
    if isinstance(start, datetime) and isinstance(end, datetime):
        reversed_range = _aware(start) > _aware(end)
    else:
        reversed_range = start > end
    if reversed_range:
        raise ProblemError(
            422, "invalid-range", "Invalid time range", "`from` must not lie after `to`"
        )
