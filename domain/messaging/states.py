"""Delivery states: each part has the carrier's state; a message rolls its parts up.

- **delivered** (green) when every part is delivered;
- **failed** (red: rejected, undeliverable, expired) as soon as any part failed for good;
- **buffered** (orange) while the carrier reports it is retrying;
- **pending** (grey) otherwise: submitted or accepted, no report yet (usually delivered);
- **unconfirmed** (grey) when no final report came within the validity period.

Final states never change; a late report may still turn pending, buffered or unconfirmed into
delivered or failed. Messages the carrier never accepted are ``rejected`` (failed, and
released in the ledger) or ``cancelled``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class PartState(enum.StrEnum):
    SUBMITTED = "submitted"
    ENROUTE = "enroute"
    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    DELETED = "deleted"
    UNDELIVERABLE = "undeliverable"
    REJECTED = "rejected"
    UNKNOWN = "unknown"
    SKIPPED = "skipped"


FAILED_PART_STATES = frozenset(
    {PartState.EXPIRED, PartState.DELETED, PartState.UNDELIVERABLE, PartState.REJECTED}
)
FINAL_PART_STATES = FAILED_PART_STATES | {PartState.DELIVERED, PartState.UNKNOWN}
BUFFERED_PART_STATES = frozenset({PartState.ENROUTE})


class MessageState(enum.StrEnum):
    SCHEDULED = "scheduled"
    """Accepted for a later time (a scheduled single send): not recorded for the carrier yet."""
    QUEUED = "queued"
    """Recorded, not yet answered by a carrier."""
    PENDING = "pending"
    BUFFERED = "buffered"
    DELIVERED = "delivered"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    REJECTED = "rejected"
    """Refused by the carrier before acceptance (nothing charged)."""
    CANCELLED = "cancelled"


FINAL_MESSAGE_STATES = frozenset(
    {MessageState.DELIVERED, MessageState.FAILED, MessageState.REJECTED, MessageState.CANCELLED}
)
COLOURS = {
    MessageState.SCHEDULED: "grey",
    MessageState.QUEUED: "grey",
    MessageState.PENDING: "grey",
    MessageState.UNCONFIRMED: "grey",
    MessageState.BUFFERED: "orange",
    MessageState.DELIVERED: "green",
    MessageState.FAILED: "red",
    MessageState.REJECTED: "red",
    MessageState.CANCELLED: "grey",
}


def roll_up(parts: int, part_states: Iterable[PartState | None]) -> MessageState:
    """The message state from its parts' states (``None``: no report for that part yet)."""
    states = list(part_states)
    if any(s in FAILED_PART_STATES for s in states):
        return MessageState.FAILED
    if len(states) == parts and all(s is PartState.DELIVERED for s in states):
        return MessageState.DELIVERED
    if any(s in BUFFERED_PART_STATES for s in states):
        return MessageState.BUFFERED
    return MessageState.PENDING


def advance(current: MessageState, rolled: MessageState) -> MessageState:
    """Final states never change; reports only ever move a message forward."""
    if current in FINAL_MESSAGE_STATES:
        return current
    if current is MessageState.UNCONFIRMED and rolled not in FINAL_MESSAGE_STATES:
        return current
    return rolled
