from __future__ import annotations

import pytest

from domain.text.exceptions import InvalidSenderError
from domain.text.sender import SenderId, SenderKind


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("Kontor", "Kontor", SenderKind.ALPHANUMERIC),
        ("A", "A", SenderKind.ALPHANUMERIC),
        ("Praxis24Ber", "Praxis24Ber", SenderKind.ALPHANUMERIC),
        ("4you", "4you", SenderKind.ALPHANUMERIC),
        ("491712345678", "491712345678", SenderKind.NUMERIC),
        ("+491712345678", "491712345678", SenderKind.NUMERIC),
        ("1234567890123456", "1234567890123456", SenderKind.NUMERIC),
        ("12345", "12345", SenderKind.NUMERIC),
    ],
)
def test_valid_sender_ids_are_accepted(raw: str, value: str, kind: SenderKind) -> None:
    assert SenderId.parse(raw) == SenderId(value, kind)


@pytest.mark.parametrize(
    ("raw", "character", "position"),
    [
        ("Bäckerei", "ä", 1),
        ("My Shop", " ", 2),
        ("Shop-24", "-", 4),
        ("Kontor!", "!", 6),
        ("+Kontor", "+", 0),
        ("4917+1234", "+", 4),
        ("١٢٣", "١", 0),
    ],
)
def test_a_sender_with_a_forbidden_character_names_it_and_its_position(
    raw: str, character: str, position: int
) -> None:
    with pytest.raises(InvalidSenderError) as raised:
        SenderId.parse(raw)
    assert (raised.value.character, raised.value.position) == (character, position)
    assert repr(character) in str(raised.value)


@pytest.mark.parametrize(
    ("raw", "length", "fragment"),
    [
        ("", 0, "empty"),
        ("Kontor12345", None, None),
        ("Kontor123456", 12, "at most 11 characters, not 12"),
        ("12345678901234567", 17, "at most 16 digits, not 17"),
        ("+12345678901234567", 17, "at most 16 digits, not 17"),
    ],
)
def test_sender_length_limits(raw: str, length: int | None, fragment: str | None) -> None:
    if length is None:
        assert SenderId.parse(raw).value == raw
        return
    with pytest.raises(InvalidSenderError) as raised:
        SenderId.parse(raw)
    assert raised.value.length == length
    assert fragment is not None
    assert fragment in str(raised.value)
