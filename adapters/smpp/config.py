"""Configuration of one carrier bind, as the composition root builds it from a carriers file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.smpp.pdu import DeliverSm

DeliverHandler = Callable[[DeliverSm], Awaitable[None]]
"""Called with each deliver_sm (receipt or MO); it returns once the PDU is stored durably."""


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    host: str
    port: int
    system_id: str
    password: str
    system_type: str = ""
    window: int = 64
    """Most submit_sm/query_sm outstanding at once (the carrier's contract names it)."""
    response_timeout: float = 10.0
    """Seconds to wait for a response before the outcome is ``Unknown``."""
    bind_timeout: float = 10.0
    enquire_link_interval: float = 30.0
    """Seconds without traffic before an enquire_link checks the link."""
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    connect_wait: float = 10.0
    """Seconds a submit waits for a bind before it returns ``NotSent``."""
    max_submits_per_second: float | None = None
    """The carrier's TPS for this bind; ``None``: only 0x58 throttling slows it."""
    close_timeout: float = 5.0
    name: str = "carrier"
    """The bind's name in logs (never a number)."""
