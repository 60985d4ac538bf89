"""Reading uploaded CSV and TXT files as Excel and other tools write them.

- Encoding: a byte-order mark decides (UTF-8, or UTF-16 as Excel's "Unicode text" writes it);
  otherwise UTF-8 if the whole file is valid UTF-8, else Windows-1252 (Excel's "CSV" on a
  German Windows), else Latin-1 (which decodes any byte).
- Delimiter: semicolon, tab or comma, whichever splits the first 64 KB into the most
  consistent number of columns (more than one); none of them means one column (a TXT file with
  one number a line).
- Records: the ``csv`` module's Excel dialect, so quoted fields may hold delimiters, quotes
  (doubled) and line breaks. Each record comes with the line number it starts on, counted as
  an editor counts them, for the rejection report.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from domain.contacts.exceptions import ImportFileError

DELIMITERS = (";", "\t", ",")
SINGLE_COLUMN = "\x1f"
"""Delimiter used for one-column files: a control character no text file contains."""
SNIFF_CHARS = 65_536
csv.field_size_limit(1_000_000)


class MalformedFileError(ImportFileError):
    """A CSV file must be well-formed: every quoted field is closed, and no NUL characters."""

    code = "malformed"


def is_binary(head: bytes) -> bool:
    """NUL bytes without a UTF-16 byte-order mark: a spreadsheet or other binary file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "iso-8859-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter of ``text``'s records (``SINGLE_COLUMN`` if none splits them)."""
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    best, best_score = SINGLE_COLUMN, (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            counts = [
                len(row)
                for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                if any(cell.strip() for cell in row)
            ]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        width, hits = Counter(counts).most_common(1)[0]
        score = (hits / len(counts), width)
        if width > 1 and score > best_score:
            best, best_score = delimiter, score
    return best


@dataclass
class _Lines:
    """Feeds ``text`` to the csv reader line by line, counting the characters consumed."""

    text: str
    consumed: int = 0

    def __iter__(self) -> Iterator[str]:
        self.consumed = 0
        for line in io.StringIO(self.text, newline=""):
            self.consumed += len(line)
            yield line


class Records:
    """The non-blank records of a decoded file (or a slice of one starting on line
    ``first_line``), each with the line it starts on."""

    def __init__(self, text: str, delimiter: str, first_line: int = 1) -> None:
        self.text = text
        self.delimiter = delimiter
        self.first_line = first_line
        self._lines = _Lines(text)

    @property
    def chars_read(self) -> int:
        return self._lines.consumed

    def _reader(self) -> Iterator[tuple[int, list[str]]]:
        """Every record (blank ones too) with its first line."""
        reader = csv.reader(iter(self._lines), delimiter=self.delimiter)
        offset = self.first_line - 1
        line = self.first_line
        try:
            for row in reader:
                yield line, row
                line = reader.line_num + 1 + offset
        except csv.Error:
            raise MalformedFileError(
                f"the file is not valid CSV from line {line} on (an unclosed quote?)"
            ) from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for line, row in self._reader():
            if row and (row[0].strip() or any(cell.strip() for cell in row)):
                yield line, row

    def slices(self, records: int) -> Iterator[Records]:
        """The text cut into slices of ``records`` records each: whole records only (a quoted
        line break is never cut), each slice knowing the line it starts on."""
        start, start_line, count = 0, self.first_line, 0
        for line, _ in self._reader():
            if count == 0:
                start_line = line
            count += 1
            if count == records:
                end = self._lines.consumed
                yield Records(self.text[start:end], self.delimiter, start_line)
                start, count = end, 0
        if count:
            yield Records(self.text[start:], self.delimiter, start_line)


def read_text(data: bytes) -> tuple[Records, str]:
    """Records of an uploaded file and the encoding it was read with."""
    text, encoding = decode(data)
    return Records(text, sniff_delimiter(text)), encoding
