"""One message's way through a carrier bind: its SMPP parts, and what their answers make of it.

A message of n parts is n submit_sm, one after the other; each answer is a ``PartOutcome``
(``adapters.smpp.outcomes``). The rules:

- A part that could not go out yet (``could_not_go_out``: throttled, the recipient's queue
  full, no bind, a transient rejection) ends the message when it is the first part: nothing of
  the message is at the carrier, so it is requeued whole (``Requeue``). A later part is tried
  again after each of ``RETRY_DELAYS`` (its message already has parts at the carrier), and if
  it still cannot go out it counts as unanswered.
- The first part that is not accepted ends the message (``message_result``): every part
  accepted -> accepted; a part unanswered -> uncertain, with the carrier ids so far and ``""``
  for it (the carrier may have it); a part rejected -> rejected with its command_status, or
  accepted when earlier parts were (those are at the carrier and are charged).
- Every part carries what is left of the message's validity (``validity_period``), so the
  carrier drops it, and reports it expired, rather than deliver it after its send's deadline.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from adapters.jetstream.payloads import OutboundMessage
from adapters.smpp.outcomes import (
    NotSent,
    PartAccepted,
    PartOutcome,
    QueueFull,
    Rejected,
    SubmitRequest,
    Throttled,
    Unknown,
)
from domain.messaging.records import SubmitOutcome, SubmitResult
from domain.text.parts import encode_parts

UDHI = 0x40
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds a later part waits before each new try (15.7 s in all, then it counts unanswered)."""


Admit = Callable[[], Awaitable[bool]]
"""Asked right before a message's first part is written (its claim is taken there)."""


class Carrier(Protocol):
    """A bound SMPP connection (``adapters.smpp.client.SmppClient``)."""

    async def submit(self, request: SubmitRequest, admit: Admit | None = None) -> PartOutcome:
        """One part; ``admit`` is awaited once it has its window slot, right before it is
        written (``False``: it stays unsent, ``NotSent``)."""
        ...


Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Requeue:
    """Nothing of the message reached the carrier: its claim is given back and its NATS
    message offered again shortly, an ordinary first attempt once more."""


def result_of(
    message: OutboundMessage,
    outcome: SubmitOutcome,
    *,
    route: str,
    attempt: int,
    at: datetime,
    carrier_ids: tuple[str, ...] = (),
    status: int = 0,
) -> SubmitResult:
    return SubmitResult(
        message_id=message.message_id,
        send_id=message.send_id,
        account_id=message.account_id,
        index=message.index,
        parts=message.parts,
        price=message.price,
        outcome=outcome,
        carrier_ids=carrier_ids,
        command_status=status,
        attempt=attempt,
        route=route,
        at=at,
    )


def could_not_go_out(outcome: PartOutcome) -> bool:
    """Nothing was taken, and trying again is safe."""
    if isinstance(outcome, Rejected):
        return not outcome.permanent
    return isinstance(outcome, (Throttled, QueueFull, NotSent))


async def answers(
    carrier: Carrier,
    message: OutboundMessage,
    number: str,
    text: str,
    validity_period: str,
    sleep: Sleep,
    admit: Admit | None = None,
) -> list[PartOutcome]:
    """The answer to each part of the message, in order, up to the first that is not an
    acceptance (see the rules above); ``admit`` goes with the first part (a later part's
    message is at the carrier already). Raises the text errors of ``encode_parts``."""
    outcomes: list[PartOutcome] = []
    registered_delivery = 1 if message.delivery_reports else 0
    # The concatenation reference ties the parts together; the message id's last byte keeps
    # two messages to one handset from sharing it (nearly always).
    for part in encode_parts(text, message.message_id.int & 0xFF):
        request = SubmitRequest(
            source=message.sender,
            destination=number,
            payload=part.payload,
            data_coding=part.data_coding,
            esm_class=UDHI if part.esm_class_udhi else 0,
            registered_delivery=registered_delivery,
            validity_period=validity_period,
        )
        first = not outcomes
        for delay in RETRY_DELAYS:
            outcome = await carrier.submit(request, admit if first else None)
            if first or not could_not_go_out(outcome):
                break
            await sleep(delay)
        outcomes.append(outcome)
        if not isinstance(outcome, PartAccepted):
            break
    return outcomes


def message_result(
    message: OutboundMessage,
    outcomes: Sequence[PartOutcome],
    *,
    route: str,
    attempt: int,
    at: datetime,
) -> SubmitResult | Requeue:
    """What the answers to the message's parts (as ``answers`` gives them) make of it."""
    carrier_ids: list[str] = []
    kind = SubmitOutcome.ACCEPTED
    status = 0
    for outcome in outcomes:
        if isinstance(outcome, PartAccepted):
            carrier_ids.append(outcome.message_id)
            continue
        if isinstance(outcome, Rejected) and outcome.permanent:
            kind = SubmitOutcome.ACCEPTED if carrier_ids else SubmitOutcome.REJECTED
            status = outcome.command_status
        elif isinstance(outcome, Unknown) or carrier_ids:
            # Unanswered, or a later part that still could not go out after its retries: the
            # carrier may have the part, and has the message's earlier parts.
            carrier_ids.append("")
            kind = SubmitOutcome.UNCERTAIN
        else:
            return Requeue()  # the first part could not go out: nothing is at the carrier
        break
    return result_of(
        message,
        kind,
        route=route,
        attempt=attempt,
        at=at,
        carrier_ids=tuple(carrier_ids),
        status=status,
    )
