"""What a reply or a delivery report is forwarded as: the webhook callbacks (Standard Webhooks
payloads: ``type``, ``timestamp``, ``data``) and the mails, per the account's callbacks
(``domain.accounts.callbacks``).

Every callback's id derives from the event it tells of (``reply.received``: the reply;
``message.status``: the report, or the submit outcome that ended a message without one), so
the follower that queues it may queue it again after a crash and the receiver may see it
twice: both drop the second by its id. A reply's callback
names a person (the handset's number and text) and is sealed under that person's key until it
is sent; a status callback names only the platform's ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec

from adapters.mail.letters import Mail, letter
from adapters.postgres.callbacks import Queued
from domain.accounts.callbacks import Callbacks
from domain.messaging.records import DeliveryReport, SubmitOutcome, SubmitResult

CALLBACK_NAMESPACE = UUID("7d1f3a52-52a4-4c1e-9b7e-2f0c7b1e5a10")
_encoder = msgspec.json.Encoder()

CallbacksOf = Callable[[UUID], Callbacks]
"""An account's callbacks (cached by the caller)."""


@dataclass(frozen=True, slots=True)
class ForwardedReply:
    reply_id: UUID
    account_id: UUID
    message_id: UUID | None
    send_id: UUID | None
    number: str | None
    """E.164; ``None`` once erased (nothing is forwarded then)."""
    key_id: UUID
    """The handset's own key."""
    to: str
    text: str | None
    received_at: datetime
    stop: bool
    incomplete: bool


def _shown(number: str) -> str:
    return "00" + number.removeprefix("+")


def reply_callbacks(
    reply: ForwardedReply, callbacks: Callbacks, now: datetime, link: str | None = None
) -> tuple[list[Queued], list[Mail]]:
    """The webhook call and the mails a matched reply is forwarded as."""
    if reply.number is None or reply.text is None:
        return [], []
    data = {
        "reply_id": str(reply.reply_id), "message_id": _id(reply.message_id),
        "campaign_id": _id(reply.send_id), "from": _shown(reply.number), "to": reply.to,
        "text": reply.text, "received_at": reply.received_at.isoformat(), "stop": reply.stop,
        "incomplete": reply.incomplete,
    }  # fmt: skip
    queued = []
    if callbacks.reply_url:
        body = _encoder.encode(
            {"type": "reply.received", "timestamp": reply.received_at.isoformat(), "data": data}
        )
        queued.append(Queued(
            delivery_id=uuid5(CALLBACK_NAMESPACE, f"reply:{reply.reply_id}"),
            account_id=reply.account_id, event_type="reply.received", subject_id=reply.reply_id,
            url=callbacks.reply_url, body=body, key_id=reply.key_id, at=now,
        ))  # fmt: skip
    mails = [
        letter(
            "reply_forward", to, number=_shown(reply.number), to_=reply.to, text=reply.text,
            received=reply.received_at.strftime("%d.%m.%Y %H:%M:%S UTC"),
            incomplete=reply.incomplete, stop=reply.stop,
            answered=str(reply.message_id) if reply.message_id else "",
            link=link if reply.message_id else None,
        )
        for to in callbacks.emails
    ]  # fmt: skip
    return queued, mails


def status_callbacks(
    reports: Iterable[DeliveryReport], callbacks_of: CallbacksOf, now: datetime
) -> list[Queued]:
    """The ``message.status`` calls of delivery reports, for the accounts that want them
    (every final state; every state for those that asked)."""
    queued = []
    for report in reports:
        callbacks = callbacks_of(report.account_id)
        if not callbacks.status_url or not (report.final or callbacks.status_every_state):
            continue
        identity = (
            f"status:{report.message_id}:{report.part}:{report.state}:{report.carrier_id}"
            f":{report.received_at.isoformat()}"
        )
        data = {
            "message_id": str(report.message_id), "campaign_id": str(report.send_id),
            "part": report.part, "state": report.state, "final": report.final,
            "error_code": report.error_code, "status_text": report.status_text,
            "done_at": report.done_at.isoformat() if report.done_at else None,
            "received_at": report.received_at.isoformat(),
        }  # fmt: skip
        queued.append(_status_call(callbacks.status_url, identity, report, data, now))
    return queued


def _status_call(
    url: str, identity: str, about: DeliveryReport | SubmitResult, data: dict[str, Any],
    now: datetime,
) -> Queued:  # fmt: skip
    """A ``message.status`` call of ``data``, its id derived from ``identity``."""
    at = about.received_at if isinstance(about, DeliveryReport) else about.at
    body = _encoder.encode({"type": "message.status", "timestamp": at.isoformat(), "data": data})
    return Queued(
        delivery_id=uuid5(CALLBACK_NAMESPACE, identity),
        account_id=about.account_id,
        event_type="message.status",
        subject_id=about.message_id,
        url=url,
        body=body,
        key_id=None,
        at=now,
    )


NOT_SENT = {
    SubmitOutcome.REJECTED: "rejected",
    SubmitOutcome.CANCELLED: "cancelled",
    SubmitOutcome.EXPIRED: "expired",
}
"""Submit outcomes that end a message without a carrier report, as ``message.status`` names
them (final); ``accepted`` is told as ``submitted`` to those that want every state."""


def outcome_callbacks(
    results: Iterable[SubmitResult], callbacks_of: CallbacksOf, now: datetime
) -> list[Queued]:
    """The ``message.status`` calls of submit outcomes: a message the carrier refused, or
    that was never sent (cancelled, its validity passed), is final without a report; an
    accepted submit is a state of its own for the accounts that want every state. An
    uncertain one waits for its report."""
    queued = []
    for result in results:
        state = NOT_SENT.get(result.outcome)
        if state is None and result.outcome is not SubmitOutcome.ACCEPTED:
            continue
        callbacks = callbacks_of(result.account_id)
        final = state is not None
        if not callbacks.status_url or not (final or callbacks.status_every_state):
            continue
        shown = state or "submitted"
        identity = f"outcome:{result.message_id}:{result.attempt}:{shown}"
        data = {
            "message_id": str(result.message_id), "campaign_id": str(result.send_id),
            "part": None, "state": shown, "final": final,
            "error_code": f"{result.command_status:#06x}" if result.command_status else None,
            "status_text": "", "done_at": None, "received_at": result.at.isoformat(),
        }  # fmt: skip
        queued.append(_status_call(callbacks.status_url, identity, result, data, now))
    return queued


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None
