from __future__ import annotations

import pytest
from hypothesis import given

from domain.text.exceptions import InvalidEncodingError, NotGsmError
from domain.text.gsm import (
    BASIC_CHARACTERS,
    EXTENSION_CHARACTERS,
    count_septets,
    decode_gsm7,
    encode_gsm7,
)
from tests.unit.text.strategies import gsm_texts


def test_german_umlauts_and_sharp_s_are_in_the_default_alphabet() -> None:
    assert set("ÄÖÜäöüß") <= BASIC_CHARACTERS
    assert encode_gsm7("ÄÖÜäöüß") == bytes([0x5B, 0x5C, 0x5E, 0x7B, 0x7C, 0x7E, 0x1E])


def test_the_extension_table_has_exactly_the_ten_two_septet_characters() -> None:
    assert set("^{}\\[~]|€\f") == EXTENSION_CHARACTERS
    for character in EXTENSION_CHARACTERS:
        assert count_septets(character) == 2
        assert encode_gsm7(character)[0] == 0x1B


@pytest.mark.parametrize(
    ("text", "septets"),
    [
        ("@", b"\x00"),
        ("Hello", b"Hello"),
        ("€", b"\x1b\x65"),
        ("[x]", b"\x1b\x3cx\x1b\x3e"),
        ("£$¥", b"\x01\x02\x03"),
        ("ÉΔ_", b"\x1f\x10\x11"),
        ("\n\r", b"\x0a\x0d"),
        ("¿¡§", b"\x60\x40\x5f"),
    ],
)
def test_characters_encode_to_their_unpacked_septets(text: str, septets: bytes) -> None:
    assert encode_gsm7(text) == septets
    assert decode_gsm7(septets) == text


@pytest.mark.parametrize(("text", "position", "character"), [("ok ç", 3, "ç"), ("`", 0, "`")])
def test_a_character_outside_gsm_cannot_be_encoded_and_is_named(
    text: str, position: int, character: str
) -> None:
    with pytest.raises(NotGsmError) as raised:
        encode_gsm7(text)
    assert (raised.value.position, raised.value.character) == (position, character)


@pytest.mark.parametrize("septets", [b"\x1b", b"ab\x1b", b"\x1b\x41", b"\x80", b"a\xff"], ids=repr)
def test_malformed_septets_are_refused(septets: bytes) -> None:
    with pytest.raises(InvalidEncodingError):
        decode_gsm7(septets)


@given(gsm_texts)
def test_decoding_the_encoded_septets_gives_the_text_back(text: str) -> None:
    septets = encode_gsm7(text)
    assert decode_gsm7(septets) == text
    assert len(septets) == count_septets(text)
    assert max(septets) <= 0x7F
