"""Encoding, length and segmentation of one rendered message text.

A text is GSM-7 when every character is in GSM 03.38 (``domain.text.gsm``), else UCS-2 for the
whole message. Units are septets (GSM-7) or UTF-16 code units (UCS-2: a character outside the
Basic Multilingual Plane, such as an emoji, takes two). One SMS carries 160 septets or 70 units;
a concatenated message carries 153 or 67 per part, because the 6-byte concatenation header
takes the rest.

Invariants: no part exceeds its limit; a part never ends inside an escape sequence or a
surrogate pair (the splitter works on whole characters); the parts joined give the text; the
number of parts is minimal under that rule (greedy longest-prefix packing is optimal for an
ordered sequence). Texts longer than ``MAX_CHARACTERS`` code points are refused.

``measure`` is the hot path used for every recipient of a campaign (no part texts are built);
``segment`` returns the part texts and the characters that forced UCS-2.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from domain.text.exceptions import EmptyTextError, InvalidEncodingError, TextTooLongError
from domain.text.gsm import count_septets, gsm_septets, non_gsm_positions, septets_of

MAX_CHARACTERS = 1_500


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


SINGLE_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 160, Encoding.UCS2: 70}
PART_LIMIT: dict[Encoding, int] = {Encoding.GSM7: 153, Encoding.UCS2: 67}

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class TextSize(NamedTuple):
    """What a preview and a price need: encoding, code points, units and the number of parts
    (a named tuple, cheap to create for every recipient of a campaign)."""

    encoding: Encoding
    characters: int
    units: int
    segments: int


@dataclass(frozen=True, slots=True)
class ForcingCharacter:
    """A character outside GSM 03.38 and its code point position in the text."""

    position: int
    character: str


@dataclass(frozen=True, slots=True)
class Segmentation:
    encoding: Encoding
    characters: int
    units: int
    parts: tuple[str, ...]
    forcing: tuple[ForcingCharacter, ...]
    """Every character that made the message UCS-2 (empty for GSM-7)."""

    @property
    def segments(self) -> int:
        return len(self.parts)


def check_length(text: str) -> int:
    """The number of code points; refuses an empty text and one over ``MAX_CHARACTERS``."""
    characters = len(text)
    if characters == 0:
        raise EmptyTextError()
    if characters > MAX_CHARACTERS:
        raise TextTooLongError(characters, MAX_CHARACTERS)
    return characters


def utf16_units(text: str) -> int:
    """UTF-16 code units: one per character, two for characters outside the BMP."""
    return len(text) + len(_ASTRAL.findall(text))


def _ucs2_units_of(character: str) -> int:
    return 2 if character > "\uffff" else 1


def _classify(text: str) -> tuple[Encoding, int]:
    septets = gsm_septets(text)
    if septets >= 0:
        return Encoding.GSM7, septets
    lone = _SURROGATE.search(text)
    if lone is not None:
        raise InvalidEncodingError(f"lone surrogate code point at position {lone.start()}")
    return Encoding.UCS2, utf16_units(text)


def measure(text: str) -> TextSize:
    """Encoding, characters, units and part count, without building the parts.

    Refuses an empty text and one over ``MAX_CHARACTERS`` code points.
    """
    check_length(text)
    return size_of(text)


def size_of(text: str) -> TextSize:
    """Like ``measure`` but without the length rule (for reports on hypothetical texts)."""
    characters = len(text)
    encoding, units = _classify(text)
    if units <= SINGLE_LIMIT[encoding]:
        return TextSize(encoding, characters, units, 1)
    limit = PART_LIMIT[encoding]
    if units == characters:  # every character is one unit: plain division
        return TextSize(encoding, characters, units, -(-units // limit))
    return TextSize(encoding, characters, units, len(_split_bounds(text, encoding)))


def segment(text: str) -> Segmentation:
    """The full result: encoding, counts, the part texts and the characters forcing UCS-2."""
    characters = check_length(text)
    encoding, units = _classify(text)
    forcing: tuple[ForcingCharacter, ...] = ()
    if encoding is Encoding.UCS2:
        forcing = tuple(ForcingCharacter(p, c) for p, c in non_gsm_positions(text))
    if units <= SINGLE_LIMIT[encoding]:
        return Segmentation(encoding, characters, units, (text,), forcing)
    parts = tuple(text[start:end] for start, end in _split_bounds(text, encoding))
    return Segmentation(encoding, characters, units, parts, forcing)


def _split_bounds(text: str, encoding: Encoding) -> list[tuple[int, int]]:
    """Greedy longest-prefix packing into parts of at most ``PART_LIMIT`` units each."""
    limit = PART_LIMIT[encoding]
    count: Callable[[str], int]
    cost: Callable[[str], int]
    if encoding is Encoding.GSM7:
        count, cost = count_septets, septets_of
    else:
        count, cost = utf16_units, _ucs2_units_of
    bounds: list[tuple[int, int]] = []
    start, length = 0, len(text)
    while start < length:
        # At most ``limit`` characters fit; drop whole characters from the end until the units
        # fit too, so an escape sequence or surrogate pair is never cut.
        end = min(length, start + limit)
        units = count(text[start:end])
        while units > limit:
            end -= 1
            units -= cost(text[end])
        bounds.append((start, end))
        start = end
    return bounds
