"""Query parameters, one rule everywhere: a value the endpoint cannot use is a 422 problem.

Every list endpoint takes ``limit`` between 1 and its maximum, a ``state`` only from the
states that exist, a ``format`` only of ``json`` or ``csv``, a ``cursor`` only as a previous
page gave it, and a time range only with ``from`` not after ``to``; texts obey the edge's text
rules (``api.schemas.common``). None of them is clamped or ignored silently.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast, get_args
from urllib.parse import unquote_to_bytes

from litestar import Request
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


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?)?"
)


def _time_kind(annotation: Any) -> type | None:
    """``datetime`` or ``date`` for a parameter of that type (optional or annotated too)."""
    if annotation is datetime or annotation is date:
        return cast("type", annotation)
    for inner in get_args(annotation):
        found = _time_kind(inner)
        if found is not None:
            return found
    return None


def check_query(request: Request[Any, Any, Any]) -> None:
    """Run before every handler: the query is UTF-8, and its times are ISO 8601.

    The query parser replaces bytes that are not UTF-8 (a lone surrogate's, say) by U+FFFD, so
    a search for them silently searched for something else: refuse them (400). Litestar
    converts query values leniently, so ``as_of=0.5`` passed as a Unix timestamp: refuse any
    time or date that is not written as the document says (``format: date-time``).
    """
    raw = request.scope.get("query_string", b"")
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(
            400, "malformed-query", "The query string is not valid UTF-8", "percent-encode UTF-8"
        ) from None
    for name, parameter in request.route_handler.parsed_fn_signature.parameters.items():
        kind = _time_kind(parameter.annotation)
        if kind is None:
            continue
        definition = parameter.kwarg_definition
        key = getattr(definition, "query", None) or getattr(definition, "name", None) or name
        value = request.query_params.get(key)
        if value is None:
            continue
        pattern = ISO_DATETIME if kind is datetime else ISO_DATE
        if pattern.fullmatch(value) is None:
            raise ProblemError(
                422,
                "validation",
                "The request is not valid",
                f"`{key}` must be an ISO 8601 {'date-time' if kind is datetime else 'date'}",
            )


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
