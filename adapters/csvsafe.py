"""CSV cells that a spreadsheet will not run as formulas.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) in Excel and LibreOffice: CSV injection. Such cells get a leading apostrophe, as
OWASP recommends. So that ``unescape`` can always undo it exactly, a cell that itself starts with
an apostrophe gets one more.
"""

from __future__ import annotations

ESCAPED_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_safe(cell: str) -> str:
    return "'" + cell if cell.startswith(ESCAPED_STARTS) else cell


def unescape(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell
