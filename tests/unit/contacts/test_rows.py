"""The rules of one import row: valid, or rejected with its line and reason."""

from __future__ import annotations

from domain.contacts.fields import ColumnMap
from domain.contacts.numbers import NumberNormaliser
from domain.contacts.rows import parse_rows

COLUMNS = ColumnMap(number=1, fields=((0, "vorname"), (2, "notiz")), has_header=True, width=3)
NORMALISE = NumberNormaliser().normalise


def test_rows_become_numbers_with_trimmed_fields_or_rejections_with_reasons() -> None:
    records = [
        (2, [" Anna ", "0171 2345678", ""]),
        (3, ["Bernd", "", "x"]),
        (4, ["Cem", "0171", "x"]),
        (5, ["Dora", "0160 1234567"]),
        (7, ["Emil", "+49 160 7654321", "y" * 1001]),
        (8, ["Fritz", "hallo"]),
    ]
    parsed = list(parse_rows(records, COLUMNS, NORMALISE))
    assert parsed == [
        (2, "+491712345678", {"vorname": "Anna", "notiz": ""}, True, None, "0171 2345678"),
        (3, None, {}, False, "missing_number", ""),
        (4, None, {}, False, "not_assigned", "0171"),
        (5, "+491601234567", {"vorname": "Dora", "notiz": ""}, True, None, "0160 1234567"),
        (7, "+491607654321", {}, False, "field_too_long", "+49 160 7654321"),
        (8, None, {}, False, "not_a_number", "hallo"),
    ]


def test_a_row_of_blank_fields_has_no_fields_to_merge() -> None:
    parsed = list(parse_rows([(1, ["", "0171 2345678", " "])], COLUMNS, NORMALISE))
    assert parsed[0][2] == {"vorname": "", "notiz": ""}
    assert parsed[0][3] is False
