"""SMPP 3.4 PDU decoder: lenient in what it accepts, typed in how it fails.

A long message_id or an unknown TLV from a carrier is accepted; anything that cannot be a PDU
raises ``PduDecodeError`` (with the command_status to answer in a generic_nack) and never any
other exception, whatever the bytes. Every C-octet string is found with ``bytes.index`` on the
whole frame, which raises ``ValueError`` when a NUL is missing; catching that once in ``decode``
is cheaper than a bounds check before each field.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import TypeVar

from adapters.smpp.constants import CommandId, CommandStatus
from adapters.smpp.encoder import HEADER, HEADER_SIZE
from adapters.smpp.errors import PduDecodeError
from adapters.smpp.pdu import (
    BindTransceiver,
    BindTransceiverResp,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Envelope,
    GenericNack,
    Pdu,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Tlvs,
    Unbind,
    UnbindResp,
    UnknownPdu,
)

_S = TypeVar("_S", SubmitSm, DeliverSm)
_B3 = struct.Struct(">BBB")
_B5 = struct.Struct(">BBBBB")
_TL = struct.Struct(">HH")


def _decode_short_message(buf: bytes, cls: type[_S]) -> _S:
    # Every ``index`` raises ValueError when a NUL is missing; decode() turns that into a typed
    # error, which is cheaper than checking bounds before each field.
    pos = HEADER_SIZE
    end = buf.index(0, pos)
    service_type = buf[pos:end].decode("latin-1")
    source_addr_ton, source_addr_npi = buf[end + 1], buf[end + 2]
    pos = end + 3
    end = buf.index(0, pos)
    source_addr = buf[pos:end].decode("latin-1")
    dest_addr_ton, dest_addr_npi = buf[end + 1], buf[end + 2]
    pos = end + 3
    end = buf.index(0, pos)
    destination_addr = buf[pos:end].decode("latin-1")
    esm_class, protocol_id, priority_flag = _B3.unpack_from(buf, end + 1)
    pos = end + 4
    end = buf.index(0, pos)
    schedule = buf[pos:end].decode("latin-1")
    pos = end + 1
    end = buf.index(0, pos)
    validity = buf[pos:end].decode("latin-1")
    registered, replace, data_coding, default_id, sm_length = _B5.unpack_from(buf, end + 1)
    pos = end + 6
    if pos + sm_length > len(buf):
        raise PduDecodeError(
            "sm_length beyond the PDU", command_status=CommandStatus.ESME_RINVMSGLEN
        )
    return cls(
        service_type=service_type,
        source_addr_ton=source_addr_ton,
        source_addr_npi=source_addr_npi,
        source_addr=source_addr,
        dest_addr_ton=dest_addr_ton,
        dest_addr_npi=dest_addr_npi,
        destination_addr=destination_addr,
        esm_class=esm_class,
        protocol_id=protocol_id,
        priority_flag=priority_flag,
        schedule_delivery_time=schedule,
        validity_period=validity,
        registered_delivery=registered,
        replace_if_present_flag=replace,
        data_coding=data_coding,
        sm_default_msg_id=default_id,
        short_message=buf[pos : pos + sm_length],
        tlvs=_decode_tlvs(buf, pos + sm_length),
    )


def _decode_tlvs(buf: bytes, pos: int) -> Tlvs:
    size = len(buf)
    if pos == size:
        return ()
    tlvs: list[tuple[int, bytes]] = []
    while pos < size:
        if pos + 4 > size:
            raise PduDecodeError(
                "truncated TLV header", command_status=CommandStatus.ESME_RINVOPTPARSTREAM
            )
        tag, length = _TL.unpack_from(buf, pos)
        pos += 4
        if pos + length > size:
            raise PduDecodeError(
                f"TLV 0x{tag:04X} longer than the PDU", command_status=CommandStatus.ESME_RINVPARLEN
            )
        tlvs.append((tag, buf[pos : pos + length]))
        pos += length
    return tuple(tlvs)


def _cstrings(buf: bytes, count: int) -> tuple[list[str], int]:
    values: list[str] = []
    pos = HEADER_SIZE
    for _ in range(count):
        end = buf.index(0, pos)
        values.append(buf[pos:end].decode("latin-1"))
        pos = end + 1
    return values, pos


def _decode_bind(buf: bytes) -> BindTransceiver:
    (system_id, password, system_type), pos = _cstrings(buf, 3)
    version, ton, npi = _B3.unpack_from(buf, pos)
    end = buf.index(0, pos + 3)
    return BindTransceiver(
        system_id, password, system_type, version, ton, npi, buf[pos + 3 : end].decode("latin-1")
    )


def _decode_bind_resp(buf: bytes) -> BindTransceiverResp:
    if len(buf) == HEADER_SIZE:  # error responses may carry no body
        return BindTransceiverResp()
    (system_id,), pos = _cstrings(buf, 1)
    return BindTransceiverResp(system_id, _decode_tlvs(buf, pos))


def _decode_submit_resp(buf: bytes) -> SubmitSmResp:
    if len(buf) == HEADER_SIZE:
        return SubmitSmResp()
    return SubmitSmResp(_cstrings(buf, 1)[0][0])


def _decode_deliver_resp(buf: bytes) -> DeliverSmResp:
    if len(buf) == HEADER_SIZE:
        return DeliverSmResp()
    return DeliverSmResp(_cstrings(buf, 1)[0][0])


def _decode_query(buf: bytes) -> QuerySm:
    (message_id,), pos = _cstrings(buf, 1)
    ton, npi = buf[pos], buf[pos + 1]
    end = buf.index(0, pos + 2)
    return QuerySm(message_id, ton, npi, buf[pos + 2 : end].decode("latin-1"))


def _decode_query_resp(buf: bytes) -> QuerySmResp:
    if len(buf) == HEADER_SIZE:
        return QuerySmResp()
    (message_id, final_date), pos = _cstrings(buf, 2)
    return QuerySmResp(message_id, final_date, buf[pos], buf[pos + 1])


_DECODERS: dict[int, Callable[[bytes], Pdu]] = {
    CommandId.SUBMIT_SM: lambda b: _decode_short_message(b, SubmitSm),
    CommandId.DELIVER_SM: lambda b: _decode_short_message(b, DeliverSm),
    CommandId.SUBMIT_SM_RESP: _decode_submit_resp,
    CommandId.DELIVER_SM_RESP: _decode_deliver_resp,
    CommandId.BIND_TRANSCEIVER: _decode_bind,
    CommandId.BIND_TRANSCEIVER_RESP: _decode_bind_resp,
    CommandId.QUERY_SM: _decode_query,
    CommandId.QUERY_SM_RESP: _decode_query_resp,
    CommandId.UNBIND: lambda _: Unbind(),
    CommandId.UNBIND_RESP: lambda _: UnbindResp(),
    CommandId.ENQUIRE_LINK: lambda _: EnquireLink(),
    CommandId.ENQUIRE_LINK_RESP: lambda _: EnquireLinkResp(),
    CommandId.GENERIC_NACK: lambda _: GenericNack(),
}


def decode(frame: bytes) -> Envelope:
    """One whole PDU (as split off by ``adapters.smpp.framing``) as a typed value.

    Raises ``PduDecodeError`` for anything malformed and nothing else, whatever the bytes.
    """
    if len(frame) < HEADER_SIZE:
        raise PduDecodeError("shorter than a PDU header")
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise PduDecodeError("command_length differs from the frame", sequence_number=sequence)
    decoder = _DECODERS.get(command_id)
    if decoder is None:
        return Envelope(UnknownPdu(command_id, frame[HEADER_SIZE:]), sequence, status)
    try:
        return Envelope(decoder(frame), sequence, status)
    except PduDecodeError as exc:
        exc.sequence_number = sequence
        raise
    except (ValueError, IndexError, struct.error) as exc:
        raise PduDecodeError(
            f"malformed 0x{command_id:08X} body: {type(exc).__name__}",
            command_status=CommandStatus.ESME_RINVMSGLEN,
            sequence_number=sequence,
        ) from exc
