"""Spreadsheet cells that are not run as formulas, and the way back.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel and LibreOffice: CSV injection. Exports give such cells a leading
apostrophe, as OWASP recommends, and a cell that itself starts with an apostrophe one more, so
that ``unescaped`` undoes it exactly. An import undoes only that: an apostrophe followed by one
of those characters (what an export wrote); any other leading apostrophe is the customer's own.
"""

from __future__ import annotations

ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
_ESCAPED = frozenset(ESCAPED_STARTS)


def escaped(cell: str) -> str:
    return "'" + cell if cell.startswith(ESCAPED_STARTS) else cell


def unescaped(cell: str) -> str:
    """``cell`` as it was before ``escaped`` (unchanged if it was not escaped by it)."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _ESCAPED else cell
