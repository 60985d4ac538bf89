"""Field names, the merge rule, and finding an import file's number column."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.contacts.exceptions import InvalidFieldError, NoNumberColumnError
from domain.contacts.fields import clean_fields, detect_columns, field_key, merge_fields
from domain.contacts.numbers import NumberNormaliser

IS_NUMBER = NumberNormaliser().is_number


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Vorname", "vorname"),
        ("First name", "vorname"),
        (" first_name ", "vorname"),
        ("Nachname", "nachname"),
        ("Last Name", "nachname"),
        ("Anrede", "anrede"),
        ("Salutation", "anrede"),
        ("Termin Datum", "termin_datum"),
        ("Kunden-Nr.", "kunden-nr"),
    ],
)
def test_headers_become_the_template_engines_placeholder_names(header: str, key: str) -> None:
    assert field_key(header) == key


def test_later_non_blank_values_overwrite_and_blank_cells_never_erase() -> None:
    current = {"vorname": "Anna", "nachname": "Müller", "ort": "Köln"}
    later = {"vorname": "", "nachname": "Schmidt", "plz": ""}
    assert merge_fields(current, later) == {
        "vorname": "Anna",
        "nachname": "Schmidt",
        "ort": "Köln",
        "plz": "",
    }


values = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(["", "x", "y"]))


@given(values, values, values)
def test_merging_is_associative_so_file_order_alone_decides(
    first: dict[str, str], second: dict[str, str], third: dict[str, str]
) -> None:
    left = merge_fields(merge_fields(first, second), third)
    right = merge_fields(first, merge_fields(second, third))
    assert left == right


def test_a_field_longer_than_a_thousand_characters_is_refused() -> None:
    with pytest.raises(InvalidFieldError):
        clean_fields({"notiz": "x" * 1001})


def test_a_header_row_names_the_number_column_and_a_mobile_name_beats_telefon() -> None:
    sample = [
        ["Anrede", "Telefon", "Handy", "Vorname"],
        ["Frau", "030 1234567", "0171 2345678", "A"],
    ]
    found = detect_columns(sample, IS_NUMBER)
    assert found.has_header
    assert found.number == 2
    assert found.field_names() == ("anrede", "telefon", "vorname")


def test_a_file_without_header_has_its_number_column_found_by_its_values() -> None:
    sample = [["Anna", "0171 2345678"], ["Jürgen", "+49 160 1234567"]]
    found = detect_columns(sample, IS_NUMBER)
    assert not found.has_header
    assert found.number == 1
    assert found.field_names() == ("spalte_1",)


def test_an_unknown_header_above_a_column_of_numbers_is_still_a_header() -> None:
    sample = [["Kunde", "Kontakt"], ["Anna", "0171 2345678"], ["Jo", "0160 1234567"]]
    found = detect_columns(sample, IS_NUMBER)
    assert found.has_header
    assert found.number == 1
    assert found.field_names() == ("kunde",)


def test_a_file_without_any_number_cannot_be_imported() -> None:
    with pytest.raises(NoNumberColumnError):
        detect_columns([["Name", "Ort"], ["Anna", "Köln"]], IS_NUMBER)


def test_a_first_row_with_an_invalid_number_is_data_and_its_names_stay_out_of_field_names() -> None:
    sample = [["Zacharias", "0171"], ["Anna", "0171 2345678"], ["Jo", "0160 1234567"]]
    found = detect_columns(sample, IS_NUMBER)
    assert not found.has_header
    assert found.field_names() == ("spalte_1",)
