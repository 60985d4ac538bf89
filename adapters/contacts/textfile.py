"""Reading uploaded CSV and TXT files as Excel and other tools write them.

- Encoding: a byte-order mark decides (UTF-8, or UTF-16 as Excel's "Unicode text" writes it);
  otherwise UTF-8 if the whole file is valid UTF-8, else, if some lines are UTF-8 and others
  not, each line in its own (UTF-8 or Windows-1252), else Windows-1252 (Excel's "CSV" on a
  German Windows), else Latin-1 (which decodes any byte).
- Delimiter: semicolon, tab or comma, whichever splits the first 64 KB into the most
  consistent number of columns (more than one); none of them means one column (a TXT file with
  one number a line).
- Records: the ``csv`` module's Excel dialect, so quoted fields may hold delimiters, quotes
  (doubled) and line breaks. Each record comes with the line number it starts on, counted as
  an editor counts them, for the rejection report. A quoted field never closed fails the
  import naming its line (the csv module would swallow every row after it).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from domain.contacts.exceptions import ImportFileError

DELIMITERS = (";", "\t", ",")
SINGLE_COLUMN = "\x1f"
"""Delimiter used for one-column files: a control character no text file contains."""
SNIFF_CHARS = 65_536
FIELD_LIMIT = 1_000_000
csv.field_size_limit(FIELD_LIMIT)


class MalformedFileError(ImportFileError):
    """A CSV file must be well-formed: every quoted field is closed, and no NUL characters."""

    code = "malformed"


def _unclosed(line: int) -> str:
    return (
        f'line {line} opens a quoted field that is never closed (one " too many or too few):'
        " every row after it would be read into that field"
    )


def is_binary(head: bytes) -> bool:
    """NUL bytes without a UTF-16 byte-order mark: a spreadsheet or other binary file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    return b"\x00" in head


UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}"
    rb"|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
"""A multi-byte UTF-8 character. Windows-1252 text holds such byte runs only by accident (its
``Ã¼`` is no German), so a file that is not UTF-8 as a whole but has them mixes the two."""
MIXED = "utf-8+windows-1252"


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with. A file whose lines mix
    UTF-8 and Windows-1252 (lists pasted together from two tools) is decoded line by line,
    each line in its own encoding (``MIXED``), not the UTF-8 lines into mojibake."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if UTF8_SEQUENCE.search(data):
        return "".join(map(_decode_line, data.splitlines(keepends=True))), MIXED
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "iso-8859-1"


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


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
        """Every record (blank ones too) with its first line. A quote left open is refused
        with its line: the csv module would read every row after it into one field."""
        lines = self._lines
        reader = csv.reader(iter(lines), delimiter=self.delimiter)
        offset = self.first_line - 1
        line = self.first_line
        start = last_start = 0
        row: list[str] = []
        try:
            for row in reader:
                yield line, row
                last_start, start = start, lines.consumed
                line = reader.line_num + 1 + offset
        except csv.Error as exc:
            raise self._malformed(line, self.text[start:], str(exc)) from None
        last = self.text[last_start:start]
        if any("\n" in cell or "\r" in cell for cell in row) and last.count('"') % 2:
            raise MalformedFileError(_unclosed(self._line_of(last_start)))

    def _line_of(self, position: int) -> int:
        return self.first_line + self.text.count("\n", 0, position)

    @staticmethod
    def _malformed(line: int, rest: str, error: str) -> MalformedFileError:
        if rest.count('"') % 2:
            return MalformedFileError(_unclosed(line))
        if "field larger than field limit" in error:
            return MalformedFileError(
                f"line {line} has a field of more than {FIELD_LIMIT:,} characters"
                " (is it the right file?)"
            )
        return MalformedFileError(f"line {line} is not valid CSV: {error}")

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
