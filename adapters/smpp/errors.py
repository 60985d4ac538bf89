"""Typed errors of the SMPP layer; each docstring names the rule that was broken."""

from __future__ import annotations

from adapters.smpp.constants import CommandStatus


class SmppError(Exception):
    """Base of every error raised by ``adapters.smpp``."""


class PduEncodeError(SmppError):
    """A PDU value does not fit SMPP 3.4 (a field too long, a number out of its byte range)."""


class PduDecodeError(SmppError):
    """Bytes that claim to be a PDU are not one of ours. ``command_status`` is what the receiver
    answers in its generic_nack; ``sequence_number`` is the header's, when it could be read."""

    def __init__(
        self,
        reason: str,
        *,
        command_status: int = CommandStatus.ESME_RINVCMDLEN,
        sequence_number: int = 0,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.command_status = command_status
        self.sequence_number = sequence_number


class FramingError(SmppError):
    """A command_length outside what any SMPP 3.4 PDU can be: the stream cannot be trusted any
    longer, because the next PDU boundary is unknown. The connection must be closed."""

    def __init__(self, command_length: int) -> None:
        super().__init__(f"absurd command_length {command_length}")
        self.command_length = command_length


class BindError(SmppError):
    """The SMSC refused bind_transceiver (wrong system_id or password, or already bound)."""

    def __init__(self, command_status: int) -> None:
        super().__init__(f"bind refused with command_status 0x{command_status:08X}")
        self.command_status = command_status


class ConnectionLostError(SmppError):
    """The TCP connection ended (or was found dead) while a request waited for its response."""


class ResponseTimeoutError(SmppError):
    """No response arrived for a request within its timeout."""


class NotConnectedError(SmppError):
    """There is no bound connection to send on; nothing was sent, so a retry is safe."""


class QueryError(SmppError):
    """The SMSC answered query_sm with an error status (often: it does not know the id)."""

    def __init__(self, command_status: int) -> None:
        super().__init__(f"query_sm failed with command_status 0x{command_status:08X}")
        self.command_status = command_status
