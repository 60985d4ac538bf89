"""The bytes of each SMS part, as the SMPP carrier sender submits them.

GSM-7 texts are sent with ``data_coding`` 0 as unpacked septets (one per byte); UCS-2 texts with
``data_coding`` 8 as UTF-16 big-endian (a character outside the BMP is a surrogate pair, never
split). A message of more than one part carries, in front of each part's body, the 6-byte
concatenation user data header ``05 00 03 ref total seq`` (IEI 0x00: 8-bit reference) and sets
the UDHI bit in ``esm_class``. The part texts come from ``domain.text.segments.segment``, so the
limits and the no-split rule are the same ones the customer was quoted for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.text.exceptions import InvalidEncodingError
from domain.text.gsm import decode_gsm7, encode_gsm7
from domain.text.segments import Encoding, segment

DATA_CODING: dict[Encoding, int] = {Encoding.GSM7: 0, Encoding.UCS2: 8}
UDH_LENGTH = 6
_UDH_PREFIX = bytes([0x05, 0x00, 0x03])


@dataclass(frozen=True, slots=True)
class EncodedPart:
    """One submit_sm's worth: ``payload`` is the short_message (UDH + body)."""

    text: str
    data_coding: int
    """0: GSM 03.38 default alphabet (unpacked septets); 8: UCS-2 (UTF-16BE)."""
    esm_class_udhi: bool
    """True when ``payload`` starts with a user data header (esm_class bit 0x40)."""
    payload: bytes
    sequence: int
    """1-based position of the part in its message."""
    total: int


def concatenation_header(reference: int, total: int, sequence: int) -> bytes:
    return _UDH_PREFIX + bytes([reference, total, sequence])


def _body(text: str, encoding: Encoding) -> bytes:
    if encoding is Encoding.GSM7:
        return encode_gsm7(text)
    return text.encode("utf-16-be")


def encode_parts(text: str, reference: int) -> list[EncodedPart]:
    """The encoded parts of a text; ``reference`` (0-255) ties the parts of one message together.

    Raises the text errors of ``segment`` (empty, too long).
    """
    if not 0 <= reference <= 0xFF:
        raise ValueError(f"the concatenation reference {reference} is not a byte")
    result = segment(text)
    coding = DATA_CODING[result.encoding]
    total = result.segments
    if total == 1:
        return [EncodedPart(text, coding, False, _body(text, result.encoding), 1, 1)]
    return [
        EncodedPart(
            part,
            coding,
            True,
            concatenation_header(reference, total, sequence) + _body(part, result.encoding),
            sequence,
            total,
        )
        for sequence, part in enumerate(result.parts, start=1)
    ]


def decode_body(data_coding: int, body: bytes) -> str:
    """The text of one part's body (without header)."""
    if data_coding == 0:
        return decode_gsm7(body)
    if data_coding == 8:
        try:
            return body.decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise InvalidEncodingError(f"not UTF-16BE: {exc.reason}") from exc
    raise InvalidEncodingError(f"data_coding {data_coding} is not supported")


def decode_parts(parts: Sequence[EncodedPart]) -> str:
    """The message text of parts in any order (a receiver's view; tests use it for round trips)."""
    if not parts:
        raise InvalidEncodingError("no parts")
    if len(parts) == 1 and not parts[0].esm_class_udhi:
        return decode_body(parts[0].data_coding, parts[0].payload)
    bodies: dict[int, str] = {}
    headers = set()
    for part in parts:
        header = part.payload[:UDH_LENGTH]
        if not part.esm_class_udhi or header[:3] != _UDH_PREFIX or len(header) < UDH_LENGTH:
            raise InvalidEncodingError("a part of a concatenated message has no 8-bit header")
        headers.add((header[3], header[4]))
        bodies[header[5]] = decode_body(part.data_coding, part.payload[UDH_LENGTH:])
    if len(headers) != 1:
        raise InvalidEncodingError("the parts carry different references or totals")
    ((_, total),) = headers
    if sorted(bodies) != list(range(1, total + 1)):
        raise InvalidEncodingError(f"expected parts 1..{total}, got {sorted(bodies)}")
    return "".join(bodies[sequence] for sequence in range(1, total + 1))
