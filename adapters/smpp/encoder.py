"""SMPP 3.4 PDU encoder: strict, so that a field an SMSC would refuse fails here, before sending.

Why a codec of our own, and its speed: see ``adapters.smpp.codec``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from adapters.smpp.errors import PduEncodeError
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
    ShortMessage,
    SubmitSm,
    SubmitSmResp,
    Tlvs,
    Unbind,
    UnbindResp,
    UnknownPdu,
)

HEADER = struct.Struct(">IIII")
HEADER_SIZE = HEADER.size
_B3 = struct.Struct(">BBB")
_B5 = struct.Struct(">BBBBB")
_TL = struct.Struct(">HH")

# Maximum lengths in bytes including the NUL, from SMPP 3.4 section 5.2.
_MAX = {
    "system_id": 16,
    "password": 9,
    "system_type": 13,
    "address_range": 41,
    "service_type": 6,
    "source_addr": 21,
    "destination_addr": 21,
    "schedule_delivery_time": 17,
    "validity_period": 17,
    "message_id": 65,
    "final_date": 17,
}


def _c(value: str, field: str) -> bytes:
    raw = value.encode("latin-1", "strict") + b"\x00"
    if len(raw) > _MAX[field] or b"\x00" in raw[:-1]:
        raise PduEncodeError(f"{field} does not fit a C-octet string of {_MAX[field]} bytes")
    return raw


def _tlvs(tlvs: Tlvs) -> bytes:
    out = bytearray()
    for tag, value in tlvs:
        if not 0 <= tag <= 0xFFFF or len(value) > 0xFFFF:
            raise PduEncodeError(f"TLV 0x{tag:04X} out of range")
        out += _TL.pack(tag, len(value))
        out += value
    return bytes(out)


def _short_message_body(p: ShortMessage) -> bytes:
    if len(p.short_message) > 254:
        raise PduEncodeError("short_message longer than 254 bytes: use message_payload")
    try:
        return b"".join(
            (
                _c(p.service_type, "service_type"),
                bytes((p.source_addr_ton, p.source_addr_npi)),
                _c(p.source_addr, "source_addr"),
                bytes((p.dest_addr_ton, p.dest_addr_npi)),
                _c(p.destination_addr, "destination_addr"),
                bytes((p.esm_class, p.protocol_id, p.priority_flag)),
                _c(p.schedule_delivery_time, "schedule_delivery_time"),
                _c(p.validity_period, "validity_period"),
                bytes(
                    (
                        p.registered_delivery,
                        p.replace_if_present_flag,
                        p.data_coding,
                        p.sm_default_msg_id,
                        len(p.short_message),
                    )
                ),
                p.short_message,
                _tlvs(p.tlvs),
            )
        )
    except ValueError as exc:  # bytes((256,)) and latin-1 failures
        raise PduEncodeError(str(exc)) from exc


def _bind_body(p: BindTransceiver) -> bytes:
    try:
        return b"".join(
            (
                _c(p.system_id, "system_id"),
                _c(p.password, "password"),
                _c(p.system_type, "system_type"),
                bytes((p.interface_version, p.addr_ton, p.addr_npi)),
                _c(p.address_range, "address_range"),
            )
        )
    except ValueError as exc:
        raise PduEncodeError(str(exc)) from exc


def _query_body(p: QuerySm) -> bytes:
    try:
        return b"".join(
            (
                _c(p.message_id, "message_id"),
                bytes((p.source_addr_ton, p.source_addr_npi)),
                _c(p.source_addr, "source_addr"),
            )
        )
    except ValueError as exc:
        raise PduEncodeError(str(exc)) from exc


def _query_resp_body(p: QuerySmResp) -> bytes:
    try:
        return b"".join(
            (
                _c(p.message_id, "message_id"),
                _c(p.final_date, "final_date"),
                bytes((p.message_state, p.error_code)),
            )
        )
    except ValueError as exc:
        raise PduEncodeError(str(exc)) from exc


def _empty(_: object) -> bytes:
    return b""


def _message_id_body(p: SubmitSmResp | DeliverSmResp) -> bytes:
    try:
        return _c(p.message_id, "message_id")
    except UnicodeEncodeError as exc:
        raise PduEncodeError(str(exc)) from exc


def _bind_resp_body(p: BindTransceiverResp) -> bytes:
    try:
        return _c(p.system_id, "system_id") + _tlvs(p.tlvs)
    except UnicodeEncodeError as exc:
        raise PduEncodeError(str(exc)) from exc


def _unknown_body(p: UnknownPdu) -> bytes:
    return p.body


_ENCODERS: dict[type, Callable[[Any], bytes]] = {
    SubmitSm: _short_message_body,
    DeliverSm: _short_message_body,
    SubmitSmResp: _message_id_body,
    DeliverSmResp: _message_id_body,
    BindTransceiver: _bind_body,
    BindTransceiverResp: _bind_resp_body,
    QuerySm: _query_body,
    QuerySmResp: _query_resp_body,
    Unbind: _empty,
    UnbindResp: _empty,
    EnquireLink: _empty,
    EnquireLinkResp: _empty,
    GenericNack: _empty,
    UnknownPdu: _unknown_body,
}


def encode(pdu: Pdu, sequence_number: int, command_status: int = 0) -> bytes:
    """The PDU as bytes on the wire, header included."""
    if not 0 <= sequence_number <= 0xFFFFFFFF or not 0 <= command_status <= 0xFFFFFFFF:
        raise PduEncodeError("sequence_number and command_status are 32-bit unsigned")
    body = _ENCODERS[type(pdu)](pdu)
    return (
        HEADER.pack(HEADER_SIZE + len(body), pdu.command_id, command_status, sequence_number) + body
    )
