"""What a caller gives the client to submit, and what it gets back.

What one submitted part came to is a ``PartOutcome`` (named apart from the message's
``domain.messaging.records.SubmitOutcome``, which the carrier sender makes of its parts'
outcomes). It is a closed union, so the carrier sender matches on it exhaustively:

- ``PartAccepted(message_id)``: the carrier took the part; capture the reservation.
- ``Rejected(command_status)``: the carrier refused it; ``permanent`` says whether to release
  the reservation (most statuses) or retry later (system error, temporary app error).
- ``Throttled``: 0x58, the bind slows down by itself; requeue the part.
- ``QueueFull``: 0x14, the carrier's queue for the recipient is full; requeue later.
- ``Unknown(reason)``: sent, but no answer came (timeout, or the connection dropped after the
  write). The carrier may have accepted it: record the uncertainty, never resend blindly.
- ``NotSent(reason)``: nothing was written (no bound connection in time, client closed); a retry
  is safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from adapters.smpp.address import destination_address, source_address
from adapters.smpp.constants import CommandStatus, Tag
from adapters.smpp.pdu import Envelope, SubmitSm, SubmitSmResp, Tlvs
from adapters.smpp.receipt import DeliveryState


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitRequest:
    """One SMS part, already encoded by the text engine."""

    source: str
    """Sender ID: alphanumeric, or a number (see ``adapters.smpp.address``)."""
    destination: str
    """E.164, with or without '+'."""
    payload: bytes
    """The part's bytes, UDH included when ``esm_class`` has UDHI (0x40)."""
    data_coding: int = 0
    esm_class: int = 0
    registered_delivery: int = 1
    validity_period: str = ""
    """SMPP time format (absolute or relative, e.g. ``000002000000000R`` for two days)."""
    protocol_id: int = 0
    priority_flag: int = 0
    tlvs: Tlvs = ()


@dataclass(frozen=True, slots=True)
class PartAccepted:
    message_id: str


TRANSIENT_STATUSES = frozenset({CommandStatus.ESME_RSYSERR, CommandStatus.ESME_RX_T_APPN})


@dataclass(frozen=True, slots=True)
class Rejected:
    command_status: int

    @property
    def permanent(self) -> bool:
        return self.command_status not in TRANSIENT_STATUSES


@dataclass(frozen=True, slots=True)
class Throttled:
    command_status: int = CommandStatus.ESME_RTHROTTLED


@dataclass(frozen=True, slots=True)
class QueueFull:
    command_status: int = CommandStatus.ESME_RMSGQFUL


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: Literal["timeout", "connection_lost"]


@dataclass(frozen=True, slots=True)
class NotSent:
    reason: str


PartOutcome = PartAccepted | Rejected | Throttled | QueueFull | Unknown | NotSent


def outcome_of(response: Envelope) -> PartAccepted | Rejected | Throttled | QueueFull:
    """The outcome a submit_sm_resp (or a generic_nack in its place) stands for."""
    status = response.command_status
    if status == CommandStatus.ESME_ROK and isinstance(response.pdu, SubmitSmResp):
        return PartAccepted(response.pdu.message_id)
    if status == CommandStatus.ESME_RTHROTTLED:
        return Throttled()
    if status == CommandStatus.ESME_RMSGQFUL:
        return QueueFull()
    return Rejected(status or CommandStatus.ESME_RUNKNOWNERR)


@dataclass(frozen=True, slots=True)
class QueryResult:
    """A query_sm_resp: the carrier's current view of one message."""

    message_id: str
    state: DeliveryState
    message_state: int
    error_code: int
    final_date: datetime | None


def build_submit_sm(request: SubmitRequest) -> SubmitSm:
    """The submit_sm for a request; a payload over 254 bytes travels as message_payload."""
    source = source_address(request.source)
    destination = destination_address(request.destination)
    short_message, tlvs = request.payload, request.tlvs
    if len(short_message) > 254:
        tlvs = (*tlvs, (Tag.MESSAGE_PAYLOAD, short_message))
        short_message = b""
    return SubmitSm(
        source_addr_ton=source.ton,
        source_addr_npi=source.npi,
        source_addr=source.addr,
        dest_addr_ton=destination.ton,
        dest_addr_npi=destination.npi,
        destination_addr=destination.addr,
        esm_class=request.esm_class,
        protocol_id=request.protocol_id,
        priority_flag=request.priority_flag,
        validity_period=request.validity_period,
        registered_delivery=request.registered_delivery,
        data_coding=request.data_coding,
        short_message=short_message,
        tlvs=tlvs,
    )
