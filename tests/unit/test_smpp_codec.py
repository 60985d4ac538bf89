"""The SMPP 3.4 codec: every PDU we use round-trips, bytes match the spec, garbage fails typed."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.smpp.codec import decode, encode
from adapters.smpp.constants import CommandId, CommandStatus, Tag
from adapters.smpp.errors import PduDecodeError, PduEncodeError
from adapters.smpp.pdu import (
    BindTransceiver,
    BindTransceiverResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
    UnknownPdu,
)

UDH = bytes.fromhex("050003a70201")
EVERY_PDU: list[Pdu] = [
    BindTransceiver("kontor", "secret", "bulk", 0x34, 1, 1, "49*"),
    BindTransceiverResp("SMSC", ((Tag.SC_INTERFACE_VERSION, b"\x34"),)),
    Unbind(),
    UnbindResp(),
    EnquireLink(),
    EnquireLinkResp(),
    GenericNack(),
    SubmitSm(
        source_addr_ton=5,
        source_addr="Kontor",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="4917012345678",
        esm_class=0x40,
        registered_delivery=1,
        data_coding=8,
        validity_period="000002000000000R",
        short_message=UDH + "Grüße".encode("utf-16-be"),
        tlvs=(
            (Tag.USER_MESSAGE_REFERENCE, b"\x00\x2a"),
            (Tag.SAR_MSG_REF_NUM, b"\x00\xa7"),
            (Tag.SAR_TOTAL_SEGMENTS, b"\x02"),
            (Tag.SAR_SEGMENT_SEQNUM, b"\x01"),
        ),
    ),
    SubmitSmResp("1A2B3C4D"),
    DeliverSm(
        source_addr="4917012345678",
        destination_addr="Kontor",
        esm_class=0x04,
        short_message=b"id:1A2B3C4D sub:001 dlvrd:001 stat:DELIVRD err:000 text:",
        tlvs=(
            (Tag.RECEIPTED_MESSAGE_ID, b"1A2B3C4D\x00"),
            (Tag.MESSAGE_STATE, b"\x02"),
            (Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01"),
            (0x1401, b"vendor"),
        ),
    ),
    DeliverSmResp(),
    QuerySm("1A2B3C4D", 5, 0, "Kontor"),
    QuerySmResp("1A2B3C4D", "261125133500000+", 2, 0),
    UnknownPdu(0x00000021, b"\x00\x01\x02"),
]


@pytest.mark.parametrize("pdu", EVERY_PDU, ids=lambda p: type(p).__name__)
def test_every_pdu_type_decodes_to_what_was_encoded(pdu: Pdu) -> None:
    envelope = decode(encode(pdu, 0x7FFFFFFE, 0x58))
    assert envelope.pdu == pdu
    assert envelope.sequence_number == 0x7FFFFFFE
    assert envelope.command_status == 0x58


def test_enquire_link_is_a_bare_sixteen_byte_header() -> None:
    assert encode(EnquireLink(), 7) == bytes.fromhex("00000010000000150000000000000007")


def test_submit_sm_bytes_follow_the_field_order_of_the_specification() -> None:
    pdu = SubmitSm(
        source_addr_ton=5,
        source_addr="Ko",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="49",
        esm_class=0x40,
        registered_delivery=1,
        data_coding=0,
        short_message=b"hi",
        tlvs=((Tag.USER_MESSAGE_REFERENCE, b"\x00\x05"),),
    )
    body = (
        b"\x00"  # service_type
        + b"\x05\x00Ko\x00"  # source ton, npi, addr
        + b"\x01\x0149\x00"  # dest ton, npi, addr
        + b"\x40\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x01\x00\x00\x00"  # registered_delivery, replace, data_coding, sm_default_msg_id
        + b"\x02hi"  # sm_length, short_message
        + b"\x02\x04\x00\x02\x00\x05"  # user_message_reference TLV
    )
    header = struct.pack(">IIII", 16 + len(body), CommandId.SUBMIT_SM, 0, 9)
    assert encode(pdu, 9) == header + body


def test_an_error_response_without_a_body_decodes_with_an_empty_message_id() -> None:
    frame = struct.pack(">IIII", 16, CommandId.SUBMIT_SM_RESP, CommandStatus.ESME_RTHROTTLED, 3)
    envelope = decode(frame)
    assert envelope.pdu == SubmitSmResp("")
    assert envelope.command_status == CommandStatus.ESME_RTHROTTLED


def test_a_long_carrier_message_id_is_accepted_on_decode() -> None:
    long_id = "x" * 80
    frame = struct.pack(">IIII", 16 + 81, CommandId.SUBMIT_SM_RESP, 0, 1) + long_id.encode() + b"\0"
    assert decode(frame).pdu == SubmitSmResp(long_id)


@pytest.mark.parametrize(
    ("pdu", "fragment"),
    [
        (BindTransceiver("a-system-id-too-long", "pw"), "system_id"),
        (BindTransceiver("kontor", "password-too-long"), "password"),
        (SubmitSm(destination_addr="4" * 21), "destination_addr"),
        (SubmitSm(short_message=b"x" * 255), "254"),
        (SubmitSm(esm_class=256), "range"),
        (SubmitSm(source_addr="Grüße€"), "latin-1"),
        (SubmitSm(tlvs=((0x10000, b""),)), "TLV"),
    ],
)
def test_encoding_refuses_a_field_an_smsc_would_refuse(pdu: Pdu, fragment: str) -> None:
    with pytest.raises(PduEncodeError, match=fragment):
        encode(pdu, 1)


def _fix_length(frame: bytes) -> bytes:
    return struct.pack(">I", len(frame)) + frame[4:]


MALFORMED = {
    "shorter than a header": (b"\x00\x00\x00", CommandStatus.ESME_RINVCMDLEN),
    "length differs from frame": (
        struct.pack(">IIII", 17, CommandId.ENQUIRE_LINK, 0, 1),
        CommandStatus.ESME_RINVCMDLEN,
    ),
    "C-string without NUL": (
        _fix_length(struct.pack(">IIII", 0, CommandId.SUBMIT_SM, 0, 1) + b"abcd"),
        CommandStatus.ESME_RINVMSGLEN,
    ),
    "sm_length beyond the PDU": (
        _fix_length(encode(DeliverSm(), 1)[:-1] + b"\x09"),
        CommandStatus.ESME_RINVMSGLEN,
    ),
    "truncated TLV header": (
        _fix_length(encode(DeliverSm(), 1) + b"\x00\x00"),
        CommandStatus.ESME_RINVOPTPARSTREAM,
    ),
}


@pytest.mark.parametrize(("frame", "status"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_frames_raise_a_typed_error_with_the_status_to_answer(
    frame: bytes, status: int
) -> None:
    with pytest.raises(PduDecodeError) as caught:
        decode(frame)
    assert caught.value.command_status == status


def test_a_tlv_longer_than_its_pdu_is_refused_with_invalid_parameter_length() -> None:
    frame = _fix_length(encode(DeliverSm(), 5) + b"\x04\x27\x00\x09\x02")
    with pytest.raises(PduDecodeError) as caught:
        decode(frame)
    assert caught.value.command_status == CommandStatus.ESME_RINVPARLEN
    assert caught.value.sequence_number == 5


text = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=12)
tlv = st.tuples(st.integers(0, 0xFFFF), st.binary(max_size=40))
byte = st.integers(0, 255)


@st.composite
def short_messages(draw: st.DrawFn) -> SubmitSm | DeliverSm:
    cls = SubmitSm if draw(st.booleans()) else DeliverSm
    return cls(
        service_type=draw(st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=5)),
        source_addr_ton=draw(byte),
        source_addr_npi=draw(byte),
        source_addr=draw(text),
        dest_addr_ton=draw(byte),
        dest_addr_npi=draw(byte),
        destination_addr=draw(text),
        esm_class=draw(byte),
        protocol_id=draw(byte),
        priority_flag=draw(byte),
        registered_delivery=draw(byte),
        replace_if_present_flag=draw(byte),
        data_coding=draw(byte),
        sm_default_msg_id=draw(byte),
        short_message=draw(st.binary(max_size=254)),
        tlvs=tuple(draw(st.lists(tlv, max_size=5))),
    )


@given(short_messages(), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))
def test_any_submit_or_deliver_sm_survives_a_round_trip(
    pdu: SubmitSm | DeliverSm, sequence: int, status: int
) -> None:
    envelope = decode(encode(pdu, sequence, status))
    assert (envelope.pdu, envelope.sequence_number, envelope.command_status) == (
        pdu,
        sequence,
        status,
    )


@given(st.binary(max_size=120))
def test_arbitrary_bytes_never_raise_anything_but_a_decode_error(junk: bytes) -> None:
    for frame in (junk, _fix_length(junk) if len(junk) >= 16 else junk):
        with contextlib.suppress(PduDecodeError):
            decode(frame)


@given(st.sampled_from(EVERY_PDU), st.integers(16, 200), st.binary(min_size=1, max_size=4))
def test_corrupting_a_valid_pdu_never_raises_anything_but_a_decode_error(
    pdu: Pdu, position: int, noise: bytes
) -> None:
    frame = bytearray(encode(pdu, 1))
    frame[position : position + len(noise)] = noise
    with contextlib.suppress(PduDecodeError):
        decode(_fix_length(bytes(frame)))
