from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.text.exceptions import InvalidEncodingError
from domain.text.parts import EncodedPart, decode_parts, encode_parts
from domain.text.segments import segment
from tests.unit.text.strategies import gsm_texts, texts

EMOJI = "\U0001f600"


def test_a_single_gsm_part_has_no_header_and_data_coding_0() -> None:
    (part,) = encode_parts("Grüße €", reference=1)
    assert (part.data_coding, part.esm_class_udhi, part.sequence, part.total) == (0, False, 1, 1)
    assert part.payload == b"Gr~\x1ee \x1b\x65"
    assert part.text == "Grüße €"


def test_a_single_ucs2_part_is_utf16_big_endian_with_data_coding_8() -> None:
    (part,) = encode_parts(f"Łó{EMOJI}", reference=1)
    assert (part.data_coding, part.esm_class_udhi) == (8, False)
    assert part.payload == bytes.fromhex("0141 00f3 d83d de00")


def test_concatenated_gsm_parts_carry_the_6_byte_header_and_153_septets() -> None:
    parts = encode_parts("a" * 152 + "€" + "a" * 152, reference=0xAB)
    assert [p.payload[:6].hex() for p in parts] == [
        "050003ab0301",
        "050003ab0302",
        "050003ab0303",
    ]
    assert [len(p.payload) - 6 for p in parts] == [152, 153, 1]
    assert parts[1].payload[6:8] == b"\x1b\x65"
    assert all(p.esm_class_udhi and p.data_coding == 0 for p in parts)
    assert [p.text for p in parts] == ["a" * 152, "€" + "a" * 151, "a"]


def test_concatenated_ucs2_parts_carry_at_most_134_body_bytes_and_keep_surrogate_pairs() -> None:
    parts = encode_parts("ł" * 66 + EMOJI + "ł" * 66, reference=9)
    assert [len(p.payload) - 6 for p in parts] == [132, 134, 2]
    assert parts[1].payload[6:10] == bytes.fromhex("d83dde00")
    assert [p.payload[:6].hex() for p in parts] == ["050003090301", "050003090302", "050003090303"]


def test_a_reference_outside_one_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="256"):
        encode_parts("a" * 200, reference=256)


def test_parts_from_two_messages_do_not_decode_as_one() -> None:
    first = encode_parts("a" * 200, reference=1)
    second = encode_parts("b" * 200, reference=2)
    with pytest.raises(InvalidEncodingError):
        decode_parts([first[0], second[1]])


@given(texts, st.integers(min_value=0, max_value=255))
def test_decoding_the_encoded_parts_in_any_order_gives_the_text(text: str, reference: int) -> None:
    parts = encode_parts(text, reference)
    assert decode_parts(list(reversed(parts))) == text
    assert [p.text for p in parts] == list(segment(text).parts)


@given(texts)
def test_no_payload_is_over_140_octets_of_user_data(text: str) -> None:
    for part in encode_parts(text, reference=0):
        limit = 140 if part.data_coding == 8 else 160  # GSM: septets, one per byte unpacked
        if part.esm_class_udhi:
            limit = 140 if part.data_coding == 8 else 159  # 6 header bytes + 153 septets
        assert len(part.payload) <= limit


@given(gsm_texts)
def test_every_gsm_part_is_data_coding_0_and_every_byte_a_septet(text: str) -> None:
    parts: list[EncodedPart] = encode_parts(text, reference=3)
    for part in parts:
        assert part.data_coding == 0
        body = part.payload[6:] if part.esm_class_udhi else part.payload
        assert max(body) <= 0x7F
