"""What a reply (MO) deliver_sm carries: its user data, how it is coded, and which part of a
concatenated message it is.

A handset's long reply arrives as several deliver_sm. Each names its message by a reference,
the number of parts and its own position, either in a user data header in front of the body
(``esm_class`` bit 0x40; information element 0x00 with an 8-bit reference or 0x08 with a
16-bit one) or in the SAR TLVs (``sar_msg_ref_num``, ``sar_total_segments``,
``sar_segment_seqnum``). A header or TLVs that cannot name a part (no parts, a position past
the total) are read as no concatenation: the PDU is then a reply of its own.

Texts are decoded from the joined bodies, not part by part, so a GSM escape or a UTF-16
surrogate pair split across two parts comes out whole. ``data_coding`` 0 is the GSM 03.38
default alphabet as unpacked septets (a body with bytes above 0x7F cannot be that: read as
Latin-1, as some SMSCs send it), 1 IA5 (ASCII), 3 Latin-1, 8 UCS-2 (UTF-16BE), and in the
message-class group (0xF0-0xFF) bit 2 picks 8-bit data over GSM. Nothing here raises:
characters that cannot be decoded come out as U+FFFD.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import message_bytes
from adapters.smpp.udh import PartInfo, part_info, split_udh
from domain.text.exceptions import InvalidEncodingError
from domain.text.gsm import decode_gsm7


@dataclass(frozen=True, slots=True)
class MoContent:
    body: bytes
    """The user data without its header."""
    data_coding: int
    concatenation: PartInfo | None
    """Which part of which message it is; ``None``: a reply of its own."""


def mo_content(pdu: DeliverSm) -> MoContent:
    data = message_bytes(pdu)
    _, body = split_udh(data, pdu.esm_class)
    info = part_info(data, pdu.esm_class, pdu.tlvs)
    if info is not None and not 1 <= info.part <= info.total:
        info = None
    return MoContent(body, pdu.data_coding, info)


def decode_mo(data_coding: int, body: bytes) -> str:
    """The text of a reply's (joined) body; never raises."""
    if data_coding == 8 or 0x18 <= data_coding <= 0x1B:
        return body.decode("utf-16-be", "replace")
    if data_coding == 1:
        return body.decode("ascii", "replace")
    if data_coding in (0, 0xF0, 0xF1, 0xF2, 0xF3):
        try:
            return decode_gsm7(body)
        except InvalidEncodingError:
            return body.decode("latin-1")
    return body.decode("latin-1")
