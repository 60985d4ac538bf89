"""A list as CSV, and the import template.

Exports are what German Excel opens without asking: UTF-8 with a byte-order mark, semicolons,
CRLF. Numbers are in the ``0049...`` form; every cell that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or CR) is escaped with a leading apostrophe
(``adapters.csvsafe``; ``unescape`` restores it exactly). Columns: ``Rufnummer`` and every field
the list has had, in the order they first appeared; rows in the list's order. Rows that can no
longer be decrypted (the account's key was shredded) are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from adapters.contacts.reading import ListRecipient
from adapters.csvsafe import spreadsheet_safe

BOM = "\ufeff"
NUMBER_HEADER = "Rufnummer"
TEMPLATE_HEADER = ("Rufnummer", "Anrede", "Vorname", "Nachname", "Kundennummer")
TEMPLATE_EXAMPLE = ("030 23125 567", "Frau", "Erika", "Mustermann", "K-1001")
"""Berlin's 030 23125 xxx block is reserved for fiction: the example reaches nobody."""


def display(e164: str) -> str:
    return "00" + e164[1:]


def _writer(out: io.StringIO) -> Any:
    return csv.writer(out, delimiter=";", lineterminator="\r\n")


def export_lines(
    field_names: Sequence[str], batches: Iterable[list[ListRecipient]]
) -> Iterator[str]:
    """The export, a batch of rows at a time (the first piece holds the BOM and header)."""
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow([NUMBER_HEADER, *(spreadsheet_safe(name) for name in field_names)])
    yield BOM + out.getvalue()
    for batch in batches:
        out.seek(0)
        out.truncate()
        writer.writerows(
            [
                display(r.e164),
                *(spreadsheet_safe(r.fields.get(name, "")) for name in field_names),
            ]
            for r in batch
        )
        yield out.getvalue()


def template() -> str:
    out = io.StringIO()
    writer = _writer(out)
    writer.writerow(TEMPLATE_HEADER)
    writer.writerow(TEMPLATE_EXAMPLE)
    return BOM + out.getvalue()
