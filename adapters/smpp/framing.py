"""Splits a TCP byte stream into whole PDUs by their ``command_length``.

TCP delivers bytes, not PDUs: one read may hold half a header or forty PDUs. ``FrameSplitter``
buffers what it is fed and hands back every complete frame, in order. A ``command_length`` below
the 16-byte header or above ``max_length`` cannot be trusted (garbage, a TLS client, a hostile
peer) and raises ``FramingError``; the caller must drop the connection, since the next PDU
boundary is then unknown. The default bound covers a deliver_sm or submit_sm carrying the
largest ``message_payload`` (64 KiB) plus every other field.
"""

from __future__ import annotations

import struct

from adapters.smpp.errors import FramingError

HEADER_SIZE = 16
MAX_PDU_LENGTH = 70_000
_LENGTH = struct.Struct(">I")


class FrameSplitter:
    """Feed bytes, get complete PDU frames back (each includes its header)."""

    __slots__ = ("_buffer", "_max_length")

    def __init__(self, max_length: int = MAX_PDU_LENGTH) -> None:
        self._buffer = bytearray()
        self._max_length = max_length

    def feed(self, data: bytes) -> list[bytes]:
        buffer = self._buffer
        buffer += data
        frames: list[bytes] = []
        pos = 0
        size = len(buffer)
        while size - pos >= 4:
            (length,) = _LENGTH.unpack_from(buffer, pos)
            if length < HEADER_SIZE or length > self._max_length:
                raise FramingError(length)
            if size - pos < length:
                break
            frames.append(bytes(buffer[pos : pos + length]))
            pos += length
        if pos:
            del buffer[:pos]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received that do not yet form a whole PDU."""
        return len(self._buffer)
