"""Webhooks and forwarding as the API shows them (``/v1/callbacks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

Url = Annotated[str, msgspec.Meta(max_length=2000)]
Email = Annotated[str, msgspec.Meta(max_length=254)]


class CallbacksUpdate(msgspec.Struct, forbid_unknown_fields=True):
    reply_url: Url | None = None
    """Each reply (MO) to the account's messages is posted here (``reply.received``)."""
    reply_emails: Annotated[list[Email], msgspec.Meta(max_length=5)] = msgspec.field(
        default_factory=list
    )
    """Each reply is mailed to these addresses too."""
    status_url: Url | None = None
    """Status changes of outgoing messages are posted here (``message.status``)."""
    status_every_state: bool = False
    """Every state a report names, not only final ones."""


class CallbacksRead(msgspec.Struct):
    reply_url: str | None
    reply_emails: list[str]
    status_url: str | None
    status_every_state: bool
    secret_set: bool
    """Whether a signing secret exists (``POST /v1/callbacks/secret`` makes one)."""
    previous_secret_retires_at: datetime | None
    """Until then the previous secret signs too (after a rotation)."""


class SecretRead(msgspec.Struct):
    secret: str
    """``whsec_...``: shown this once. Verify ``Webhook-Signature`` with it (Standard
    Webhooks)."""
    previous_secret_retires_at: datetime | None


class AttemptRead(msgspec.Struct):
    attempt: int
    at: datetime
    status: int | None
    latency_ms: float
    error: str | None
    response: str
    """The start of the receiver's answer."""


class DeliveryRead(msgspec.Struct):
    delivery_id: UUID
    """The ``Webhook-Id`` every attempt carried."""
    event_type: Literal["reply.received", "message.status"] | str
    subject_id: UUID
    """The reply or the message it tells of."""
    url: str
    state: str
    """``pending`` (a retry is due at ``next_at``), ``delivered``, ``failed`` (given up after a
    day), ``dropped`` (the person it told of was erased)."""
    attempts: int
    created_at: datetime
    next_at: datetime | None
    finished_at: datetime | None
    attempt_log: list[AttemptRead] = msgspec.field(default_factory=list)


class DeliveryPage(msgspec.Struct):
    items: list[DeliveryRead]
    next_before: datetime | None
    """Pass as ``before`` for the next, older page."""
