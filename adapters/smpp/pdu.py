"""SMPP 3.4 PDU bodies as small immutable values, separate from their header.

A PDU class holds only its body fields; ``command_status`` and ``sequence_number`` travel in an
``Envelope`` beside it. That split lets a session stamp the sequence number at send time without
copying the body, and lets one frozen ``SubmitSm`` be resent under a new number after a reconnect.

Optional parameters are kept as ``tlvs``: an ordered tuple of ``(tag, raw value)`` pairs, so an
unknown or vendor-specific tag survives decode -> encode unchanged (``adapters.smpp.tlv`` reads
the ones we understand). Strings are ``str`` decoded as latin-1, which maps every byte and so
can never fail on a carrier's odd characters; ``short_message`` stays ``bytes`` because its
meaning depends on ``data_coding`` and the UDH, which the text engine owns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from adapters.smpp.constants import INTERFACE_VERSION, CommandId

Tlvs = tuple[tuple[int, bytes], ...]


@dataclass(frozen=True, slots=True)
class BindTransceiver:
    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER
    system_id: str
    password: str
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, slots=True)
class BindTransceiverResp:
    command_id: ClassVar[int] = CommandId.BIND_TRANSCEIVER_RESP
    system_id: str = ""
    tlvs: Tlvs = ()


@dataclass(frozen=True, slots=True)
class Unbind:
    command_id: ClassVar[int] = CommandId.UNBIND


@dataclass(frozen=True, slots=True)
class UnbindResp:
    command_id: ClassVar[int] = CommandId.UNBIND_RESP


@dataclass(frozen=True, slots=True)
class EnquireLink:
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK


@dataclass(frozen=True, slots=True)
class EnquireLinkResp:
    command_id: ClassVar[int] = CommandId.ENQUIRE_LINK_RESP


@dataclass(frozen=True, slots=True)
class GenericNack:
    command_id: ClassVar[int] = CommandId.GENERIC_NACK


@dataclass(frozen=True, slots=True, kw_only=True)
class ShortMessage:
    """The body shared by submit_sm and deliver_sm (SMPP 3.4 sections 4.4.1 and 4.6.1)."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = b""
    tlvs: Tlvs = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitSm(ShortMessage):
    command_id: ClassVar[int] = CommandId.SUBMIT_SM


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliverSm(ShortMessage):
    command_id: ClassVar[int] = CommandId.DELIVER_SM


@dataclass(frozen=True, slots=True)
class SubmitSmResp:
    """``message_id`` is empty when an SMSC answers an error without a body, as many do."""

    command_id: ClassVar[int] = CommandId.SUBMIT_SM_RESP
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class DeliverSmResp:
    command_id: ClassVar[int] = CommandId.DELIVER_SM_RESP
    message_id: str = ""


@dataclass(frozen=True, slots=True)
class QuerySm:
    command_id: ClassVar[int] = CommandId.QUERY_SM
    message_id: str
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""


@dataclass(frozen=True, slots=True)
class QuerySmResp:
    command_id: ClassVar[int] = CommandId.QUERY_SM_RESP
    message_id: str = ""
    final_date: str = ""
    message_state: int = 0
    error_code: int = 0


@dataclass(frozen=True, slots=True)
class UnknownPdu:
    """A command this codec does not model (outbind, submit_multi, ...), kept raw so the
    receiver can answer it with generic_nack ESME_RINVCMDID instead of dropping the link."""

    command_id: int
    body: bytes = b""


Pdu = (
    BindTransceiver
    | BindTransceiverResp
    | Unbind
    | UnbindResp
    | EnquireLink
    | EnquireLinkResp
    | GenericNack
    | SubmitSm
    | SubmitSmResp
    | DeliverSm
    | DeliverSmResp
    | QuerySm
    | QuerySmResp
    | UnknownPdu
)


@dataclass(frozen=True, slots=True)
class Envelope:
    """One decoded PDU with its header values."""

    pdu: Pdu
    sequence_number: int
    command_status: int = 0

    @property
    def command_id(self) -> int:
        return self.pdu.command_id
