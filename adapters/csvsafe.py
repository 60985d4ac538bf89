"""CSV cells that a spreadsheet will not run as formulas (the rule: ``domain.contacts.cells``)."""

from __future__ import annotations

from domain.contacts.cells import ESCAPED_STARTS, escaped, unescaped

__all__ = ["ESCAPED_STARTS", "spreadsheet_safe", "unescape"]

spreadsheet_safe = escaped
unescape = unescaped
