"""Imports of files shaped as customers really send them, through upload and worker."""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

from tests.support.api import ApiHarness
from tests.support.contacts import by_number, create_list, import_file, recipients, upload

EXCEL_WINDOWS_1252 = (
    "Anrede;Vorname;Nachname;Handy;Kundennummer\r\n"
    "Frau;Jürgen;Weiß;0171 2345678;K-1\r\n"
    "Herr;Sören;Müller-Lüdenscheidt;+49 160 1234567;K-2\r\n"
    "\r\n"
    "Frau;Zoë;Groß;0049 151 12345678;K-3\r\n"
    ";;;;\r\n"
    "Herr;Ömer;Öztürk;0176/98765432;K-4\r\n"
).encode("cp1252")


def test_an_excel_csv_in_windows_1252_imports_with_its_umlauts(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    job = import_file(api, customer, list_id, EXCEL_WINDOWS_1252)
    assert job["state"] == "done"
    assert (job["imported"], job["merged"], job["rejected"]) == (4, 0, 0)
    assert (job["encoding"], job["delimiter"], job["progress"]) == ("windows-1252", "semicolon", 1)
    found = by_number(recipients(api, customer, list_id))
    assert found["+491712345678"]["fields"] == {
        "anrede": "Frau",
        "vorname": "Jürgen",
        "nachname": "Weiß",
        "kundennummer": "K-1",
    }
    assert found["+491601234567"]["fields"]["nachname"] == "Müller-Lüdenscheidt"
    assert found["+4915112345678"]["fields"]["vorname"] == "Zoë"
    assert found["+4917698765432"]["number"] == "004917698765432"
    listed = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()
    assert listed["recipients"] == 4
    assert listed["fields"] == ["anrede", "vorname", "nachname", "kundennummer"]
    assert listed["importing"] is False


def test_utf8_with_bom_and_quoted_fields_over_several_lines(api: ApiHarness) -> None:
    content = (
        codecs.BOM_UTF8
        + (
            "Rufnummer,Name,Notiz\n"
            '0171 2345678,"Müller, Anna","erste Zeile\nzweite Zeile; mit ""Zitat"""\n'
            "0160 1234567,Bernd,\n"
        ).encode()
    )
    customer = api.register()
    list_id = create_list(api, customer)
    job = import_file(api, customer, list_id, content)
    assert (job["imported"], job["rejected"], job["encoding"]) == (2, 0, "utf-8-sig")
    anna = by_number(recipients(api, customer, list_id))["+491712345678"]
    assert anna["fields"] == {
        "name": "Müller, Anna",
        "notiz": 'erste Zeile\nzweite Zeile; mit "Zitat"',
    }


def _rejections(api: ApiHarness, customer: Any, job: dict[str, Any]) -> list[list[str]]:
    response = api.client.get(job["rejections_url"], headers=customer.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def test_mixed_formats_duplicates_blank_lines_and_garbage(api: ApiHarness) -> None:
    content = (
        "Telefon;Vorname;Ort\n"  # line 1
        "0171 2345678;Anna;\n"  # 2
        "+49 171 2345678;;Köln\n"  # 3: same number, merged; blank name keeps Anna
        "\n"  # 4: blank
        "0171-234 56 78;Anne;\n"  # 5: same again: the later name wins
        "(0160) 1234567;Bernd;Bonn\n"  # 6
        "0160/1234567;;\n"  # 7: merged, nothing to change
        "n/a;Carla;\n"  # 8: garbage
        ";Dieter;Dorf\n"  # 9: no number
        "0171;Emil;\n"  # 10: too short
        "15112345678;Franz;\n"  # 11: Excel dropped the zero
        '=HYPERLINK("x");Gustav;\n'  # 12: formula garbage
    ).encode()
    customer = api.register()
    list_id = create_list(api, customer)
    job = import_file(api, customer, list_id, content)
    assert (job["rows_read"], job["imported"], job["merged"], job["rejected"]) == (10, 3, 3, 4)
    found = by_number(recipients(api, customer, list_id))
    assert found["+491712345678"]["fields"] == {"vorname": "Anne", "ort": "Köln"}
    assert found["+491601234567"]["fields"]["ort"] == "Bonn"
    assert found["+4915112345678"]["fields"]["vorname"] == "Franz"
    assert _rejections(api, customer, job) == [
        ["Zeile", "Grund", "Rufnummer"],
        ["8", "not_a_number", "n/a"],
        ["9", "missing_number", ""],
        ["10", "not_assigned", "0171"],
        ["12", "not_a_number", '\'=HYPERLINK("x")'],
    ]


def test_a_txt_file_with_one_number_a_line(api: ApiHarness) -> None:
    content = b"0171 2345678\r\n+4916012345670\r\n\r\n0176 98765432\r\nhallo\r\n"
    customer = api.register()
    list_id = create_list(api, customer)
    job = import_file(api, customer, list_id, content, filename="nummern.TXT")
    assert (job["format"], job["delimiter"]) == ("txt", "none (one column)")
    assert (job["imported"], job["rejected"]) == (3, 1)
    assert all(r["fields"] == {} for r in recipients(api, customer, list_id))


def test_a_second_import_merges_into_the_list_and_never_doubles(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    import_file(api, customer, list_id, EXCEL_WINDOWS_1252)
    again = import_file(
        api, customer, list_id, b"Handy;Nachname\n0171 2345678;Neumann\n0170 1111111;Neu\n"
    )
    assert (again["imported"], again["merged"]) == (1, 1)
    found = by_number(recipients(api, customer, list_id))
    assert len(found) == 5
    assert found["+491712345678"]["fields"]["nachname"] == "Neumann"
    assert found["+491712345678"]["fields"]["vorname"] == "Jürgen"


def test_unusable_uploads_are_refused_with_a_clear_problem(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    refusals = [
        (b"", "kunden.csv", 422, "empty-file"),
        (b"\r\n \r\n", "kunden.csv", 422, "empty-file"),
        (b"PK\x03\x04\x14\x00\x06\x00", "kunden.csv", 415, "unsupported-file-type"),
        (b"Handy\n0171 2345678\n", "kunden.xlsx", 415, "unsupported-file-type"),
    ]
    for content, filename, status, slug in refusals:
        response = upload(api, customer, list_id, content, filename)
        assert response.status_code == status, response.text
        assert response.json()["type"].endswith(slug)
    listed = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()
    assert listed["importing"] is False


def test_a_file_over_100_mb_is_refused(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    line = b"0171 2345678;" + b"x" * 86 + b"\n"
    content = line * (100 * 1024 * 1024 // len(line) + 1)
    response = upload(api, customer, list_id, content)
    assert response.status_code == 413
    assert response.json()["type"].endswith("/file-too-large")
    assert (
        api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()["importing"]
        is False
    )


def test_an_unclosed_quote_fails_the_import_naming_its_line_not_swallowing_rows(
    api: ApiHarness,
) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    data = b'Handy;Name\n0171 2345678;Anna\n0160 1234567;"Bob\n0151 12345678;Cem\n'
    job = import_file(api, customer, list_id, data)
    assert job["state"] == "failed"
    assert job["error"]["code"] == "malformed"
    assert "line 3 opens a quoted field that is never closed" in job["error"]["detail"]
    assert recipients(api, customer, list_id) == []  # all or nothing


def test_a_file_mixing_utf8_and_windows_1252_imports_without_mojibake(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    data = "Handy;Vorname\n0171 2345678;Jürgen\n".encode() + "0160 1234567;Sören\n".encode("cp1252")
    job = import_file(api, customer, list_id, data)
    assert (job["state"], job["encoding"]) == ("done", "utf-8+windows-1252")
    found = by_number(recipients(api, customer, list_id))
    assert found["+491712345678"]["fields"]["vorname"] == "Jürgen"
    assert found["+491601234567"]["fields"]["vorname"] == "Sören"
