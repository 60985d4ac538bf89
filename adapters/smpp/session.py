"""One SMPP connection as an asyncio ``Protocol``, shared by the client and the simulator.

SMPP is symmetric once bound: either side sends requests and answers the other's. The session
does the part both need and nothing more: framing, decoding, sequence numbers, and correlation
of responses with pending requests (each with its own timeout, a timer handle rather than a
``wait_for`` task, which costs a task per PDU). Requests from the peer go to the ``handler``,
which decides what they mean. A frame that decodes badly is answered with generic_nack and the
connection goes on; a command_length that cannot be trusted closes it.

``request`` raises ``NotConnectedError`` at once when nothing could be written (safe to retry);
once written, the returned future fails with ``ResponseTimeoutError`` or
``ConnectionLostError``: the peer may have acted on it, which the caller must treat as unknown.
A ``Protocol`` instead of streams, and writes gathered per event-loop turn: both save CPU per
PDU, which the 2-core budget needs.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from adapters.smpp.codec import decode, encode
from adapters.smpp.constants import RESPONSE_BIT
from adapters.smpp.errors import (
    ConnectionLostError,
    FramingError,
    NotConnectedError,
    PduDecodeError,
    ResponseTimeoutError,
)
from adapters.smpp.framing import FrameSplitter
from adapters.smpp.pdu import Envelope, GenericNack, Pdu

log = logging.getLogger(__name__)
MAX_SEQUENCE = 0x7FFFFFFF


class SessionHandler(Protocol):
    def on_request(self, session: SmppSession, envelope: Envelope) -> None:
        """A request from the peer; the handler answers it with ``session.respond``."""

    def on_closed(self, session: SmppSession, exc: Exception | None) -> None:
        """The connection ended; every pending request has already failed."""


class SmppSession(asyncio.Protocol):
    def __init__(self, handler: SessionHandler, *, name: str = "smpp") -> None:
        self.handler = handler
        self.name = name
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._splitter = FrameSplitter()
        self._pending: dict[int, tuple[asyncio.Future[Envelope], asyncio.TimerHandle]] = {}
        self._sequence = 0
        self.last_received = self._loop.time()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self.peer: str = ""
        self._outgoing: list[bytes] = []

    # asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)

    def data_received(self, data: bytes) -> None:
        self.last_received = self._loop.time()
        try:
            frames = self._splitter.feed(data)
        except FramingError as exc:
            log.warning(
                "smpp framing broken, closing", extra={"session": self.name, "error": str(exc)}
            )
            self.abort()
            return
        for frame in frames:
            try:
                envelope = decode(frame)
            except PduDecodeError as exc:
                log.warning(
                    "smpp pdu undecodable",
                    extra={"session": self.name, "error": exc.reason, "seq": exc.sequence_number},
                )
                self._write(encode(GenericNack(), exc.sequence_number, exc.command_status))
                continue
            if envelope.pdu.command_id & RESPONSE_BIT:
                self._resolve(envelope)
            else:
                self.handler.on_request(self, envelope)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        pending, self._pending = self._pending, {}
        for future, timer in pending.values():
            timer.cancel()
            if not future.done():
                _fail(future, ConnectionLostError("connection closed before the response"))
        if not self.closed.done():
            self.closed.set_result(None)
        self.handler.on_closed(self, exc)

    # sending ------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    @property
    def in_flight(self) -> int:
        """Requests sent on this connection whose response has not come (nor timed out)."""
        return len(self._pending)

    def request(self, pdu: Pdu, timeout: float) -> asyncio.Future[Envelope]:
        if not self.is_open:
            raise NotConnectedError("the connection is closed; nothing was sent")
        self._sequence = self._sequence % MAX_SEQUENCE + 1
        sequence = self._sequence
        future: asyncio.Future[Envelope] = self._loop.create_future()
        timer = self._loop.call_later(timeout, self._expire, sequence)
        self._pending[sequence] = (future, timer)
        self._write(encode(pdu, sequence))
        return future

    def respond(self, request: Envelope, pdu: Pdu, command_status: int = 0) -> None:
        self._write(encode(pdu, request.sequence_number, command_status))

    def _write(self, data: bytes) -> None:
        # PDUs written in one turn of the event loop (the answers to one read, a window's worth
        # of submits) leave in one send(): a third of the CPU at 5,000 PDUs/s was syscalls.
        if not self._outgoing:
            self._loop.call_soon(self._flush)
        self._outgoing.append(data)

    def _flush(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if outgoing and self._transport is not None and not self._transport.is_closing():
            self._transport.write(b"".join(outgoing))

    def _resolve(self, envelope: Envelope) -> None:
        entry = self._pending.pop(envelope.sequence_number, None)
        if entry is None:
            # A response after its request timed out: the caller was told "unknown" already.
            log.warning(
                "smpp late or unmatched response",
                extra={
                    "session": self.name,
                    "seq": envelope.sequence_number,
                    "command_id": f"0x{envelope.command_id:08X}",
                    "command_status": envelope.command_status,
                },
            )
            return
        future, timer = entry
        timer.cancel()
        if not future.done():
            future.set_result(envelope)

    def _expire(self, sequence: int) -> None:
        entry = self._pending.pop(sequence, None)
        if entry is not None and not entry[0].done():
            _fail(entry[0], ResponseTimeoutError(f"no response to sequence {sequence}"))

    # closing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close after the written data is flushed."""
        self._flush()
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Drop the connection at once (dead peer, broken framing)."""
        if self._transport is not None:
            self._transport.abort()

    async def wait_closed(self) -> None:
        await asyncio.shield(self.closed)


def _fail(future: asyncio.Future[Envelope], error: Exception) -> None:
    """Fail a request. A caller that stopped waiting (cancelled at shutdown) leaves nobody to
    read the error, and asyncio would log "Future exception was never retrieved"; reading it
    here marks it read, and whoever still awaits the future gets it raised all the same."""
    future.set_exception(error)
    future.exception()
