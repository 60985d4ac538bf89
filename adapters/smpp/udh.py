"""Concatenation info of one SMS part: from the UDH (esm_class UDHI) or the sar_* TLVs.

The text engine builds the parts; the carrier side (the simulator) and diagnostics read them
back here. Both concatenation information elements are understood: IEI 0x00 (8-bit reference)
and IEI 0x08 (16-bit reference). A malformed header yields ``None``, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.smpp.constants import ESM_CLASS_UDHI, Tag
from adapters.smpp.pdu import Tlvs
from adapters.smpp.tlv import read_int


@dataclass(frozen=True, slots=True)
class PartInfo:
    reference: int
    part: int
    total: int


def split_udh(short_message: bytes, esm_class: int) -> tuple[bytes, bytes]:
    """``(udh, user data)``; the UDH is empty unless esm_class has UDHI and the length fits."""
    if not esm_class & ESM_CLASS_UDHI or not short_message:
        return b"", short_message
    length = short_message[0] + 1
    if length > len(short_message):
        return b"", short_message
    return short_message[:length], short_message[length:]


def part_info(short_message: bytes, esm_class: int, tlvs: Tlvs = ()) -> PartInfo | None:
    udh, _ = split_udh(short_message, esm_class)
    pos = 1
    while pos + 2 <= len(udh):
        iei, size = udh[pos], udh[pos + 1]
        data = udh[pos + 2 : pos + 2 + size]
        if len(data) != size:
            return None
        if iei == 0x00 and size == 3:
            return PartInfo(data[0], data[2], data[1])
        if iei == 0x08 and size == 4:
            return PartInfo(int.from_bytes(data[:2], "big"), data[3], data[2])
        pos += 2 + size
    reference = read_int(tlvs, Tag.SAR_MSG_REF_NUM)
    total = read_int(tlvs, Tag.SAR_TOTAL_SEGMENTS)
    part = read_int(tlvs, Tag.SAR_SEGMENT_SEQNUM)
    if reference is not None and total is not None and part is not None:
        return PartInfo(reference, part, total)
    return None
