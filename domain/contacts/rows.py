"""From an import file's records to recipients or rejections: the rules of one row.

A data row is *valid* when its number cell normalises (``numbers.NumberNormaliser``) and no
field value is longer than ``fields.MAX_VALUE``; its fields are the mapped columns' trimmed
cells (missing cells are blank), with the escape of a Kontor export undone (``cells``: a
re-imported export gives back exactly what was exported). Otherwise it is *rejected* with a
reason: ``missing_number`` (blank number cell), ``field_too_long``, or the phone number's own
reason (``too_short``, ``not_a_number``, ... see ``domain.phone.exceptions.InvalidNumberReason``).
Blank lines are no rows at all (the file reader skips them).

This is the hot loop of a two-million-row import, so rows are plain tuples (``ParsedRow``),
and the loop binds what it calls to locals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any

from domain.contacts.cells import ESCAPED_STARTS, unescaped
from domain.contacts.fields import MAX_VALUE, ColumnMap
from domain.phone.exceptions import InvalidPhoneNumberError
from domain.phone.number import PhoneNumber

ParsedRow = tuple[int, str | None, dict[str, str], bool, str | None, str]
"""``(line, e164, fields, has_fields, reason, raw)``: ``reason`` is ``None`` for a valid row
and says why for a rejected one (whose ``e164`` is set only if its number was valid);
``has_fields`` is true when a field is not blank; ``raw`` is the number cell as written."""

MISSING_NUMBER = "missing_number"
FIELD_TOO_LONG = "field_too_long"
_NO_FIELDS: dict[str, str] = {}
ESCAPED = frozenset(ESCAPED_STARTS)


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    if len(indexes) == 1:
        only = indexes[0]
        return lambda row: (row[only],)
    getter: Any = itemgetter(*indexes)
    return getter  # type: ignore[no-any-return]


def parse_rows(
    records: Iterable[tuple[int, list[str]]],
    column_map: ColumnMap,
    normalise: Callable[[str], PhoneNumber],
) -> Iterator[ParsedRow]:
    """One ``ParsedRow`` per data record (the caller drops the header record)."""
    number_at = column_map.number
    names = column_map.field_names()
    indexes = [index for index, _ in column_map.fields]
    width = max([number_at, *indexes]) + 1
    pick = _picker(indexes) if indexes else None
    strip = str.strip
    for line, cells in records:
        row = cells if len(cells) >= width else cells + [""] * (width - len(cells))
        raw = unescaped(row[number_at].strip())
        if not raw:
            yield line, None, _NO_FIELDS, False, MISSING_NUMBER, raw
            continue
        try:
            e164 = normalise(raw).e164
        except InvalidPhoneNumberError as exc:
            yield line, None, _NO_FIELDS, False, exc.reason.value, raw
            continue
        if pick is None:
            yield line, e164, _NO_FIELDS, False, None, raw
            continue
        values = tuple(
            [  # an exported cell's escape undone (``cells``), inline: hot loop
                v[1:] if v[:1] == "'" and v[1:2] in ESCAPED else v for v in map(strip, pick(row))
            ]
        )
        if max(map(len, values)) > MAX_VALUE:
            yield line, e164, _NO_FIELDS, False, FIELD_TOO_LONG, raw
            continue
        yield line, e164, dict(zip(names, values, strict=True)), any(values), None, raw
