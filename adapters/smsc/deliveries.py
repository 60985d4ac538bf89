"""The deliver_sm PDUs the simulated carrier sends: receipts and replies (MO).

Receipts carry both forms by default, the TLVs (receipted_message_id, message_state, and
network_error_code when undeliverable) and the appendix-B text, so the client's preference for
TLVs is exercised; ``dlr_form = "text"`` leaves the TLVs out and ``dlr_id_format`` spells the
text id in hex or decimal, so the text parser and the id normalisation are exercised too.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import cast

from adapters.smpp.constants import ESM_CLASS_DELIVERY_RECEIPT, ESM_CLASS_UDHI, Npi, Tag, Ton
from adapters.smpp.pdu import DeliverSm, Tlvs
from adapters.smpp.receipt import NUMBER_BY_STATE, DeliveryState, receipt_text
from adapters.smpp.tlv import cstring_tlv, int_tlv, network_error_tlv
from adapters.smpp.udh import split_udh
from adapters.smsc.config import SimConfig
from adapters.smsc.record import DeliveryRow, SubmitRow
from domain.text.exceptions import NotGsmError
from domain.text.gsm import encode_gsm7

ID_BASE = 100_000_000
"""Message numbers start here, so an id reads differently in hex and in decimal."""
GSM_NETWORK = 3
_UNPRINTABLE = re.compile(r"[^ -~]+")


def format_id(number: int, fmt: str) -> str:
    return f"{number:X}" if fmt == "hex" else str(number)


def message_id_of(seq: int, config: SimConfig) -> str:
    return format_id(ID_BASE + seq, config.id_format)


def _excerpt(submit: SubmitRow) -> str:
    """The start of the message for ``text:``, printable ASCII only (a receipt is ASCII)."""
    _, data = split_udh(bytes.fromhex(submit.payload_hex[:120]), submit.esm_class)
    text = (
        data.decode("utf-16-be", "replace") if submit.data_coding == 8 else data.decode("latin-1")
    )
    return _UNPRINTABLE.sub("", text)[:20]


@functools.lru_cache(maxsize=4096)
def _utc(second: int) -> datetime:
    # Receipts come in thousands per second, stamped to the second: build each moment once.
    return datetime.fromtimestamp(second, UTC)


def receipt_pdu(submit: SubmitRow, delivery: DeliveryRow, config: SimConfig) -> DeliverSm:
    state = DeliveryState(delivery.state)
    text_id = format_id(ID_BASE + submit.seq, config.dlr_id_format or config.id_format)
    text = receipt_text(
        text_id,
        state,
        submit_date=_utc(int(submit.received_at)),
        done_date=_utc(int(delivery.due_at)),
        error_code=delivery.error_code,
        text=_excerpt(submit),
        seconds=config.dlr_seconds,
    )
    tlvs: Tlvs = ()
    if config.dlr_form == "tlv+text":
        tlvs = (
            cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, message_id_of(submit.seq, config)),
            int_tlv(Tag.MESSAGE_STATE, NUMBER_BY_STATE[state], 1),
        )
        if state is DeliveryState.UNDELIVERABLE:
            tlvs += (network_error_tlv(Tag.NETWORK_ERROR_CODE, GSM_NETWORK, delivery.error_code),)
    return DeliverSm(
        source_addr_ton=Ton.INTERNATIONAL,
        source_addr_npi=Npi.ISDN,
        source_addr=submit.destination_addr,
        dest_addr_ton=submit.source_ton,
        dest_addr_npi=submit.source_npi,
        destination_addr=submit.source_addr,
        esm_class=ESM_CLASS_DELIVERY_RECEIPT,
        short_message=text.encode("latin-1"),
        tlvs=tlvs,
    )


def _reply_body(text: str) -> tuple[bytes, int]:
    try:
        return encode_gsm7(text), 0
    except NotGsmError:
        return text.encode("utf-16-be"), 8


def _reply_part(
    payload: bytes, data_coding: int, part: str, reference: int, concat: str
) -> tuple[bytes, int, Tlvs]:
    """Part ``SEQ/TOTAL`` of a reply's payload: its slice (UTF-16 code units kept whole), and
    the header or TLVs that say so."""
    sequence, total = (int(n) for n in part.split("/"))
    unit = 2 if data_coding == 8 else 1
    units = len(payload) // unit
    start, end = (units * (sequence - 1) // total) * unit, (units * sequence // total) * unit
    body = payload[start:end]
    if concat == "sar":
        tlvs = (
            int_tlv(Tag.SAR_MSG_REF_NUM, reference, 2),
            int_tlv(Tag.SAR_TOTAL_SEGMENTS, total, 1),
            int_tlv(Tag.SAR_SEGMENT_SEQNUM, sequence, 1),
        )
        return body, 0, tlvs
    if concat == "udh16":
        header = bytes([6, 0x08, 4]) + reference.to_bytes(2, "big") + bytes([total, sequence])
    else:
        header = bytes([5, 0x00, 3, reference & 0xFF, total, sequence])
    return header + body, ESM_CLASS_UDHI, ()


def reply_pdu(submit: SubmitRow, delivery: DeliveryRow, config: SimConfig) -> DeliverSm:
    """The recipient answering the sender (an MO), e.g. "STOP"; a part of a longer reply
    when the row's state is ``mo:SEQ/TOTAL`` (the reference is the submit's)."""
    payload, data_coding = _reply_body(config.mo_text)
    esm_class, tlvs = 0, cast(Tlvs, ())
    if delivery.state.startswith("mo:"):
        payload, esm_class, tlvs = _reply_part(
            payload, data_coding, delivery.state[3:], submit.seq & 0xFFFF, config.mo_concat
        )
    return DeliverSm(
        source_addr_ton=Ton.INTERNATIONAL,
        source_addr_npi=Npi.ISDN,
        source_addr=submit.destination_addr,
        dest_addr_ton=submit.source_ton,
        dest_addr_npi=submit.source_npi,
        destination_addr=submit.source_addr,
        esm_class=esm_class,
        data_coding=data_coding,
        short_message=payload,
        tlvs=tlvs,
    )
