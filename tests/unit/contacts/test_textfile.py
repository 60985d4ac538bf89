"""Reading uploads as Excel and editors write them: encodings, delimiters, quoting, lines."""

from __future__ import annotations

import codecs

import pytest

from adapters.contacts.textfile import (
    SINGLE_COLUMN,
    MalformedFileError,
    Records,
    decode,
    is_binary,
    read_text,
    sniff_delimiter,
)

EXCEL = "Anrede;Vorname;Nachname;Handy\r\nFrau;Jürgen;Weiß;0171 2345678\r\n"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (EXCEL.encode("cp1252"), "windows-1252"),
        (codecs.BOM_UTF8 + EXCEL.encode(), "utf-8-sig"),
        (EXCEL.encode(), "utf-8"),
        (EXCEL.encode("utf-16"), "utf-16"),
        ("Müller\x81".encode("latin-1"), "iso-8859-1"),
    ],
)
def test_the_encoding_is_recognised_and_umlauts_survive(data: bytes, encoding: str) -> None:
    text, found = decode(data)
    assert found == encoding
    assert "ü" in text


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        (EXCEL, ";"),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ('Name,Handy\n"Müller, Anna",0171 2345678\n', ","),
        ("0171 2345678\n0160 1234567\n", SINGLE_COLUMN),
        ('Name;Notiz\n"A";"x, y, z"\n"B";"1,2"\n', ";"),
    ],
)
def test_the_delimiter_is_the_one_that_splits_rows_consistently(text: str, delimiter: str) -> None:
    assert sniff_delimiter(text) == delimiter


def test_quoted_fields_keep_delimiters_and_line_breaks_and_lines_are_counted() -> None:
    text = 'Name;Handy\r\n\r\n"Müller;\r\nAnna";0171 2345678\r\n   \r\nB;0160 1234567\r\n'
    assert list(Records(text, ";")) == [
        (1, ["Name", "Handy"]),
        (3, ["Müller;\r\nAnna", "0171 2345678"]),
        (6, ["B", "0160 1234567"]),
    ]


def test_slices_hold_whole_records_and_give_the_same_rows() -> None:
    text = "".join(f'"a\nb{i}";{i}\n' if i % 3 else f"x{i};{i}\n\n" for i in range(50))
    records = Records(text, ";")
    whole = list(records)
    sliced = [row for part in Records(text, ";").slices(7) for row in part]
    assert sliced == whole


def test_an_unclosed_quote_is_a_malformed_file_not_one_huge_field() -> None:
    records, _ = read_text(b'Name;Handy\n"Anna;0171 2345678\n' + b"x;1\n" * 400_000)
    with pytest.raises(MalformedFileError, match="line 2 opens a quoted field"):
        list(records)


def test_an_unclosed_quote_that_swallows_a_few_rows_is_reported_not_imported() -> None:
    text = 'Name;Handy\nAnna;0171 1\n"Bob;0171 2\nCem;0171 3\nDora;0171 4\n'
    with pytest.raises(MalformedFileError, match="line 3 opens a quoted field") as refused:
        list(Records(text, ";"))
    assert "every row after it" in str(refused.value)
    with pytest.raises(MalformedFileError, match="line 3"):  # the slices of a big import too
        [row for part in Records(text, ";").slices(2) for row in part]


def test_quotes_inside_fields_and_quoted_line_breaks_are_no_unclosed_quote() -> None:
    text = 'Name;Notiz\nAnna;5" Display\nBob;"zwei\nZeilen"\nCem;"ein ""Zitat"""\n'
    assert [row for _, row in Records(text, ";")][1:] == [
        ["Anna", '5" Display'], ["Bob", "zwei\nZeilen"], ["Cem", 'ein "Zitat"']
    ]  # fmt: skip


def test_a_line_of_ten_megabytes_is_called_too_long_not_an_unclosed_quote() -> None:
    records, _ = read_text(b"Handy\n" + b"1" * 10_000_000 + b"\n")
    with pytest.raises(MalformedFileError) as refused:
        list(records)
    assert "line 2 has a field of more than 1,000,000 characters" in str(refused.value)
    assert "quote" not in str(refused.value)


def test_a_file_mixing_utf8_and_windows_1252_lines_decodes_each_line_in_its_own() -> None:
    data = "Name;Stadt\nJürgen;Köln\n".encode() + "Sören;Düsseldorf\n".encode("cp1252")
    text, encoding = decode(data)
    assert text == "Name;Stadt\nJürgen;Köln\nSören;Düsseldorf\n"
    assert encoding == "utf-8+windows-1252"


def test_spreadsheets_and_binaries_are_not_text_but_utf16_is() -> None:
    assert is_binary(b"PK\x03\x04\x14\x00\x00\x00")
    assert not is_binary("Handy\r\n".encode("utf-16"))
    assert not is_binary(EXCEL.encode("cp1252"))
