"""Exports are safe to open in a spreadsheet and give back exactly what the list holds."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from adapters.contacts.export import BOM, export_lines, template
from adapters.contacts.reading import ListRecipient
from adapters.csvsafe import ESCAPED_STARTS, unescape

FIELDS = ("anrede", "vorname", "nachname", "notiz")
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
