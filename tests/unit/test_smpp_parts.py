"""Concatenation info and the TON/NPI of addresses."""

from __future__ import annotations

import pytest

from adapters.smpp.address import destination_address, source_address
from adapters.smpp.constants import Tag
from adapters.smpp.errors import PduEncodeError
from adapters.smpp.outcomes import SubmitRequest, build_submit_sm
from adapters.smpp.udh import PartInfo, part_info, split_udh


def test_an_eight_bit_reference_header_gives_reference_part_and_total() -> None:
    assert part_info(bytes.fromhex("050003a70302") + b"abc", 0x40) == PartInfo(0xA7, 2, 3)


def test_a_sixteen_bit_reference_header_gives_reference_part_and_total() -> None:
    assert part_info(bytes.fromhex("0608041234 0201".replace(" ", "")), 0x40) == PartInfo(
        0x1234, 1, 2
    )


def test_other_information_elements_before_the_concatenation_one_are_skipped() -> None:
    udh = bytes.fromhex("0b0504 0b8400000003 07 02 02".replace(" ", ""))
    assert part_info(udh + b"x", 0x40) == PartInfo(7, 2, 2)


def test_sar_tlvs_give_the_part_when_there_is_no_header() -> None:
    tlvs = (
        (Tag.SAR_MSG_REF_NUM, b"\x00\x09"),
        (Tag.SAR_TOTAL_SEGMENTS, b"\x04"),
        (Tag.SAR_SEGMENT_SEQNUM, b"\x03"),
    )
    assert part_info(b"plain", 0x00, tlvs) == PartInfo(9, 3, 4)


@pytest.mark.parametrize(
    ("message", "esm_class"),
    [
        (b"\x05\x00\x03\xa7", 0x40),
        (b"\x05\x00\x03\xa7\x02\x01hi", 0x00),
        (b"", 0x40),
        (b"\x09\x00", 0x40),
    ],
)
def test_a_missing_or_broken_header_gives_no_part(message: bytes, esm_class: int) -> None:
    assert part_info(message, esm_class) is None


def test_the_user_data_follows_the_header() -> None:
    assert split_udh(bytes.fromhex("050003a70201") + b"text", 0x40) == (
        bytes.fromhex("050003a70201"),
        b"text",
    )


@pytest.mark.parametrize(
    ("sender", "ton", "npi", "addr"),
    [
        ("Kontor", 5, 0, "Kontor"),
        ("Praxis Dr.M", 5, 0, "Praxis Dr.M"),
        ("+4917012345678", 1, 1, "4917012345678"),
        ("004917012345678", 1, 1, "4917012345678"),
        ("4917012345678", 1, 1, "4917012345678"),
        ("017012345678", 2, 1, "017012345678"),
        ("82525", 0, 1, "82525"),
    ],
)
def test_senders_get_the_ton_and_npi_of_their_kind(
    sender: str, ton: int, npi: int, addr: str
) -> None:
    address = source_address(sender)
    assert (address.ton, address.npi, address.addr) == (ton, npi, addr)


@pytest.mark.parametrize("sender", ["", "Twelve chars", "x" * 12])
def test_an_alphanumeric_sender_longer_than_eleven_is_refused(sender: str) -> None:
    with pytest.raises(PduEncodeError):
        source_address(sender)


def test_destinations_are_international_without_plus() -> None:
    address = destination_address("+4917012345678")
    assert (address.ton, address.npi, address.addr) == (1, 1, "4917012345678")
    with pytest.raises(PduEncodeError):
        destination_address("+49 170 1234")


def test_a_payload_over_254_bytes_travels_as_message_payload() -> None:
    pdu = build_submit_sm(SubmitRequest(source="Kontor", destination="+49170", payload=b"x" * 300))
    assert pdu.short_message == b""
    assert pdu.tlvs == ((Tag.MESSAGE_PAYLOAD, b"x" * 300),)
    assert pdu.registered_delivery == 1
