"""What a worker answers JetStream for a message a service handled: the service decides, the
worker only translates (``Ack`` -> ``msg.ack()``, ``Nak(delay)`` -> ``msg.nak(delay=...)``), so
a unit test asserts the decision itself.

Invariant: a service answers ``Ack`` only once everything the message asked for is recorded
(or nothing was needed); a ``Nak`` gives it back to be offered again after ``delay`` seconds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ack:
    """Done with it: its effects are durable."""


@dataclass(frozen=True, slots=True)
class Nak:
    """Offer it again ``delay`` seconds from now."""

    delay: float


ACK = Ack()
