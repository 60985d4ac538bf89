from __future__ import annotations

import pytest
from hypothesis import given

from domain.text.exceptions import EmptyTextError, TextTooLongError
from domain.text.gsm import EXTENSION_CHARACTERS, find_non_gsm
from domain.text.segments import (
    MAX_CHARACTERS,
    PART_LIMIT,
    SINGLE_LIMIT,
    Encoding,
    ForcingCharacter,
    measure,
    segment,
)
from tests.unit.text.strategies import texts

EMOJI = "\U0001f600"


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "units", "segments"),
    [
        ("a" * 160, Encoding.GSM7, 160, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 306, 2),
        ("a" * 307, Encoding.GSM7, 307, 307, 3),
        ("€" * 80, Encoding.GSM7, 80, 160, 1),
        ("€" * 81, Encoding.GSM7, 81, 162, 2),
        ("a" * 159 + "€", Encoding.GSM7, 160, 161, 2),
        ("a" * 152 + "€" + "a" * 152, Encoding.GSM7, 305, 306, 3),
        ("Grüße aus Köln, schöne Straße: ÄÖÜäöüß", Encoding.GSM7, 38, 38, 1),
        ("^{}\\[~]|€\f", Encoding.GSM7, 10, 20, 1),
        ("ł" * 70, Encoding.UCS2, 70, 70, 1),
        ("ł" * 71, Encoding.UCS2, 71, 71, 2),
        ("ł" * 134, Encoding.UCS2, 134, 134, 2),
        ("ł" * 135, Encoding.UCS2, 135, 135, 3),
        (EMOJI, Encoding.UCS2, 1, 2, 1),
        (EMOJI * 35, Encoding.UCS2, 35, 70, 1),
        (EMOJI * 36, Encoding.UCS2, 36, 72, 2),
        ("a" * 66 + EMOJI + "a" * 66, Encoding.UCS2, 133, 134, 3),
        ("Привет", Encoding.UCS2, 6, 6, 1),
    ],
)
def test_encoding_units_and_part_count_follow_gsm_03_38_limits(
    text: str, encoding: Encoding, characters: int, units: int, segments: int
) -> None:
    size = measure(text)
    assert (size.encoding, size.characters, size.units, size.segments) == (
        encoding,
        characters,
        units,
        segments,
    )
    full = segment(text)
    assert (full.encoding, full.characters, full.units, full.segments) == (
        encoding,
        characters,
        units,
        segments,
    )


def test_an_escape_sequence_is_never_split_so_the_euro_starts_the_second_part() -> None:
    parts = segment("a" * 152 + "€" + "a" * 152).parts
    assert parts == ("a" * 152, "€" + "a" * 151, "a")


def test_an_emoji_is_never_split_across_parts() -> None:
    parts = segment("a" * 66 + EMOJI + "a" * 66).parts
    assert parts == ("a" * 66, EMOJI + "a" * 65, "a")


def test_every_character_that_forces_ucs2_is_reported_with_its_position() -> None:
    result = segment(f"Hallo Łukasz {EMOJI}, schön!")
    assert result.encoding is Encoding.UCS2
    assert result.forcing == (ForcingCharacter(6, "Ł"), ForcingCharacter(13, EMOJI))


def test_a_gsm_text_reports_no_forcing_characters() -> None:
    assert segment("Grüße € [ok]").forcing == ()


def test_1500_code_points_are_allowed_and_1501_are_refused_with_the_exact_count() -> None:
    assert measure("a" * MAX_CHARACTERS).characters == 1_500
    with pytest.raises(TextTooLongError) as raised:
        measure("a" * 1_501)
    assert raised.value.characters == 1_501
    assert "1,501 characters" in str(raised.value)


def test_the_length_limit_counts_code_points_not_utf16_units() -> None:
    assert measure(EMOJI * 1_500).units == 3_000
    with pytest.raises(TextTooLongError, match="1,501"):
        segment(EMOJI * 1_501)


def test_an_empty_text_is_refused() -> None:
    with pytest.raises(EmptyTextError):
        measure("")


def _units_of(character: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if character in EXTENSION_CHARACTERS else 1
    return len(character.encode("utf-16-le")) // 2


def _minimal_parts(text: str, encoding: Encoding) -> int:
    """Reference: the fewest parts of whole characters, by dynamic programming."""
    costs = [_units_of(c, encoding) for c in text]
    if sum(costs) <= SINGLE_LIMIT[encoding]:
        return 1
    limit = PART_LIMIT[encoding]
    best = [0] + [len(text) + 1] * len(text)
    for end in range(1, len(text) + 1):
        used = 0
        for start in range(end - 1, -1, -1):
            used += costs[start]
            if used > limit:
                break
            best[end] = min(best[end], best[start] + 1)
    return best[len(text)]


@given(texts)
def test_parts_join_to_the_text_and_none_is_over_its_limit(text: str) -> None:
    result = segment(text)
    assert "".join(result.parts) == text
    limit = SINGLE_LIMIT[result.encoding] if result.segments == 1 else PART_LIMIT[result.encoding]
    for part in result.parts:
        assert part
        assert sum(_units_of(c, result.encoding) for c in part) <= limit


@given(texts)
def test_the_part_count_is_minimal_and_measure_agrees_with_segment(text: str) -> None:
    result = segment(text)
    assert result.segments == _minimal_parts(text, result.encoding)
    size = measure(text)
    assert (size.encoding, size.units, size.segments) == (
        result.encoding,
        result.units,
        result.segments,
    )


@given(texts)
def test_a_text_is_ucs2_exactly_when_a_character_is_outside_gsm(text: str) -> None:
    expected = Encoding.UCS2 if find_non_gsm(text) >= 0 else Encoding.GSM7
    result = segment(text)
    assert result.encoding is expected
    outside = [(i, c) for i, c in enumerate(text) if find_non_gsm(c) == 0]
    assert [(f.position, f.character) for f in result.forcing] == outside
