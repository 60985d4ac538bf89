"""Personalisation fields of a recipient and how an import file's columns map to them.

A recipient has one number and any number of fields (at most ``MAX_FIELDS``). Field names are
stored in the template engine's canonical form (``domain.text.template.canonical_field`` after
spaces and punctuation become ``_``), so a column ``Vorname`` or ``First name`` fills the
placeholder ``{vorname}`` as well as ``{first_name}``; ``Anrede``/``Salutation`` is ``anrede``,
``Nachname``/``Last name`` is ``nachname``, and any other column is a custom field under its own
normalised name (``Termin Datum`` -> ``termin_datum``).

The number column is found by its header (``NUMBER_HEADERS``: Rufnummer, Handy, Telefon, Mobil,
number, phone ...; a mobile-sounding name wins over a plain telephone column) or, in a file
without a header row, as the column whose values are phone numbers.

Merging (a number already in the list, or twice in a file): the later row's non-blank values
overwrite, blank cells never erase what is there. So a numbers-only TXT import keeps the names
an earlier CSV gave, and a corrected file updates them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from domain.contacts.exceptions import InvalidFieldError, NoNumberColumnError
from domain.text.template import canonical_field

MAX_FIELDS = 50
MAX_NAME = 64
MAX_VALUE = 1000
SAMPLE_ROWS = 50
"""Data rows looked at to find the number column of a file without a recognised header."""

_MOBILE = (
    "handy",
    "handynr",
    "handynummer",
    "mobil",
    "mobile",
    "mobilnr",
    "mobilnummer",
    "mobilfunk",
    "mobilfunknummer",
    "mobiltelefon",
    "mobilenumber",
    "cell",
    "cellphone",
    "msisdn",
    "sms",
    "smsnummer",
)
_GENERIC = (
    "number",
    "nummer",
    "rufnummer",
    "rufnr",
    "phone",
    "phonenumber",
    "empfanger",
    "empfänger",
    "empfaenger",
    "recipient",
    "to",
    "an",
    "zielrufnummer",
)
_PHONE = ("telefon", "telefonnummer", "tel", "telnr", "telephone", "fon", "festnetz")
NUMBER_HEADERS: dict[str, int] = {
    **dict.fromkeys(_MOBILE, 0),
    **dict.fromkeys(_GENERIC, 1),
    **dict.fromkeys(_PHONE, 2),
}
"""Compact header (casefolded, without spaces and punctuation) -> rank; lower ranks win."""

_COMPACT = re.compile(r"[\s_.\-/:#()]+")
_NOT_NAME = re.compile(r"[^\w-]+")


def _compact(header: str) -> str:
    return _COMPACT.sub("", header.strip().casefold())


def field_key(name: str) -> str:
    """The stored (canonical) name of a field: ``" First Name "`` -> ``vorname``."""
    slug = _NOT_NAME.sub("_", name.strip().casefold()).strip("_")
    return canonical_field(slug)


def clean_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """Canonical names and trimmed values; raises ``InvalidFieldError`` for a bad name or size.

    Blank values are kept as ``""`` (they never overwrite on merge, see ``merge_fields``)."""
    if len(fields) > MAX_FIELDS:
        raise InvalidFieldError(f"{len(fields)} fields; at most {MAX_FIELDS}")
    cleaned: dict[str, str] = {}
    for name, value in fields.items():
        key = field_key(name)
        if not key or len(key) > MAX_NAME:
            raise InvalidFieldError(f"a field name must have 1 to {MAX_NAME} letters or digits")
        if len(value) > MAX_VALUE:
            raise InvalidFieldError(f"field {key!r} is longer than {MAX_VALUE} characters")
        cleaned[key] = value.strip()
    return cleaned


def merge_fields(current: Mapping[str, str], later: Mapping[str, str]) -> dict[str, str]:
    """``current`` updated by ``later``'s non-blank values (blank cells never erase)."""
    merged = dict(current)
    for key, value in later.items():
        if value or key not in merged:
            merged[key] = value
    return merged


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds the number and which hold which field."""

    number: int
    fields: tuple[tuple[int, str], ...]
    has_header: bool
    width: int

    def field_names(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.fields)


def _named_fields(header: Sequence[str], number: int) -> tuple[tuple[int, str], ...]:
    named: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = field_key(cell)
        if index == number or not key or len(key) > MAX_NAME or key in named:
            continue
        named[key] = index
    return tuple((index, key) for key, index in named.items())[:MAX_FIELDS]


def detect_columns(sample: Sequence[Sequence[str]], is_number: Callable[[str], bool]) -> ColumnMap:
    """The column map for a file whose first non-blank records are ``sample``.

    A first record with a number header (``NUMBER_HEADERS``) is the header row. Otherwise the
    number column is the one where most sampled rows hold a valid number; the first record is
    then a header row unless its cell in that column has digits (a number, valid or not).
    Headerless files name their other columns ``spalte_1``, ``spalte_2`` ... (1-based, as
    spreadsheets count).
    """
    if not sample:
        raise NoNumberColumnError
    first = sample[0]
    width = max(len(row) for row in sample)
    ranked = [
        (NUMBER_HEADERS[compact], index)
        for index, cell in enumerate(first)
        if (compact := _compact(cell)) in NUMBER_HEADERS
    ]
    if ranked:
        number = min(ranked)[1]
        return ColumnMap(number, _named_fields(first, number), True, width)
    hits = [0] * width
    for row in sample[1 : SAMPLE_ROWS + 1]:
        for index, cell in enumerate(row):
            if cell.strip() and is_number(cell):
                hits[index] += 1
    first_hits = [bool(cell.strip()) and is_number(cell) for cell in first]
    if max(hits, default=0) == 0:
        if not any(first_hits):
            raise NoNumberColumnError
        number = first_hits.index(True)
    else:
        number = hits.index(max(hits))
    cell = first[number] if number < len(first) else ""
    # A cell with digits is a number (maybe invalid), not a column name: the first row is then
    # data, and its cells (names, perhaps) must not become field names, which are stored in clear.
    if any(ch.isdigit() for ch in cell):
        return ColumnMap(number, _named_fields(_generic(width), number), False, width)
    return ColumnMap(number, _named_fields(first, number), True, width)


def _generic(width: int) -> list[str]:
    return [f"spalte_{index + 1}" for index in range(width)]
