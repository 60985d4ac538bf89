"""Exports are safe to open in a spreadsheet and give back exactly what the list holds."""

from __future__ import annotations

import csv
import io
from itertools import islice

from hypothesis import given
from hypothesis import strategies as st

from adapters.contacts.export import BOM, export_lines, template
from adapters.contacts.reading import ListRecipient
from adapters.contacts.textfile import read_text
from adapters.csvsafe import ESCAPED_STARTS, unescape
from domain.contacts.fields import SAMPLE_ROWS, ColumnMap, detect_columns
from domain.contacts.numbers import NumberNormaliser
from domain.contacts.rows import parse_rows

FIELDS = ("anrede", "vorname", "nachname", "notiz")
NORMALISER = NumberNormaliser()
cells = st.text(
    alphabet=st.one_of(
        st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "'", ";", '"', ",", " "]),
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    max_size=20,
)
numbers = st.integers(1_500_000_000, 1_799_999_999).map(lambda n: f"+49{n}")
recipients = st.lists(
    st.tuples(numbers, st.fixed_dictionaries(dict.fromkeys(FIELDS, cells))), max_size=30
)


def _exported(rows: list[tuple[str, dict[str, str]]]) -> str:
    batch = [ListRecipient(i, e164, "", fields, False) for i, (e164, fields) in enumerate(rows)]
    return "".join(export_lines(FIELDS, [batch[:10], batch[10:]]))


@given(recipients)
def test_the_export_round_trips_once_unescaped(rows: list[tuple[str, dict[str, str]]]) -> None:
    text = _exported(rows)
    assert text.startswith(BOM)
    read = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert read[0] == ["Rufnummer", *FIELDS]
    back = [(row[0], dict(zip(FIELDS, map(unescape, row[1:]), strict=True))) for row in read[1:]]
    assert back == [("00" + e164[1:], fields) for e164, fields in rows]


@given(recipients)
def test_no_exported_cell_starts_like_a_formula(rows: list[tuple[str, dict[str, str]]]) -> None:
    read = list(csv.reader(io.StringIO(_exported(rows)[1:], newline=""), delimiter=";"))
    for row in read[1:]:
        assert row[0].startswith("0049")
        for cell in row[1:]:
            assert not cell.startswith(ESCAPED_STARTS) or cell.startswith("'")


def test_the_template_names_every_known_column() -> None:
    header = template()[1:].splitlines()[0].split(";")
    assert header == ["Rufnummer", "Anrede", "Vorname", "Nachname", "Kundennummer"]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 99_999_999).map(lambda n: f"+49151{n:08d}"),  # valid mobile numbers
            st.fixed_dictionaries(dict.fromkeys(FIELDS, cells.map(str.strip))),
        ),
        unique_by=lambda row: row[0],
        min_size=1,
        max_size=30,
    )
)
def test_an_export_imported_again_gives_back_its_cells(
    rows: list[tuple[str, dict[str, str]]],
) -> None:
    """What the import reads of its own export is what was exported: no apostrophes left."""
    records, _ = read_text(_exported(rows).encode())
    sample = [row for _, row in records]
    columns = detect_columns(sample[: SAMPLE_ROWS + 1], NORMALISER.is_number)
    parsed = list(parse_rows(islice(iter(records), 1, None), columns, NORMALISER.normalise))
    assert [(e164, fields) for _, e164, fields, _, _, _ in parsed] == rows


def test_a_reimported_formula_cell_loses_the_exports_apostrophe_only() -> None:
    exported = _exported([("+4915112345678", {"anrede": "=1+1", "vorname": "'Anna",
                                              "nachname": "-", "notiz": "ok"})])  # fmt: skip
    records, _ = read_text(exported.encode())
    columns = detect_columns([row for _, row in records], NORMALISER.is_number)
    (parsed,) = parse_rows(islice(iter(records), 1, None), columns, NORMALISER.normalise)
    assert parsed[2] == {"anrede": "=1+1", "vorname": "'Anna", "nachname": "-", "notiz": "ok"}
    foreign = [(2, ["'Anna", "0151 12345678"])]  # an apostrophe of the customer's own stays
    own = ColumnMap(number=1, fields=((0, "vorname"),), has_header=True, width=2)
    assert next(parse_rows(foreign, own, NORMALISER.normalise))[2] == {"vorname": "'Anna"}
