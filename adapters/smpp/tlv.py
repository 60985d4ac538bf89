"""Reading and building the optional parameters (TLVs) this platform understands.

The codec keeps TLVs as raw ``(tag, bytes)`` pairs; these helpers give them meaning. Readers
return ``None`` for an absent or malformed value instead of raising, because a carrier's odd TLV
must never make a delivery report unreadable: the caller falls back to the text form.
"""

from __future__ import annotations

from adapters.smpp.pdu import Tlvs


def find(tlvs: Tlvs, tag: int) -> bytes | None:
    for t, value in tlvs:
        if t == tag:
            return value
    return None


def read_int(tlvs: Tlvs, tag: int) -> int | None:
    """A big-endian unsigned integer TLV (1, 2 or 4 bytes), or ``None``."""
    value = find(tlvs, tag)
    if value is None or len(value) not in (1, 2, 4):
        return None
    return int.from_bytes(value, "big")


def read_cstring(tlvs: Tlvs, tag: int) -> str | None:
    """A C-octet-string TLV (some SMSCs omit the NUL), stripped; ``None`` if absent or empty."""
    value = find(tlvs, tag)
    if value is None:
        return None
    text = value.split(b"\x00", 1)[0].decode("latin-1").strip()
    return text or None


def int_tlv(tag: int, value: int, width: int) -> tuple[int, bytes]:
    return (tag, value.to_bytes(width, "big"))


def cstring_tlv(tag: int, value: str) -> tuple[int, bytes]:
    return (tag, value.encode("latin-1") + b"\x00")


def network_error_tlv(tag: int, network_type: int, error_code: int) -> tuple[int, bytes]:
    """network_error_code: one byte of network type (3 = GSM), two bytes of error code."""
    return (tag, bytes((network_type,)) + error_code.to_bytes(2, "big"))


def read_network_error(tlvs: Tlvs, tag: int) -> tuple[int, int] | None:
    value = find(tlvs, tag)
    if value is None or len(value) != 3:
        return None
    return value[0], int.from_bytes(value[1:], "big")
