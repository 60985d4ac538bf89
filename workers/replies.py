"""The replies follower: follows the Messaging notification log for the replies (MO) the
ingest recorded and hands each to ``services.replies``, which correlates it to the message it
answers (recorded in Inbound) and honours STOP; the reply's row of the read model
(``projections.replies``) is written in the same transaction as the follower's position, so a
crash repeats a batch, which the correlation's idempotency makes harmless. A matched reply is
forwarded as its account asks (``services.forwarding``): its webhook call and mails are queued
in that transaction too, so each is queued once whatever crashed.

``status_runner`` follows the delivery reports the same way and queues the ``message.status``
calls of the accounts that want them. Both run in the projections worker, beside the read
models they feed."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from adapters.postgres import callbacks as outbox
from adapters.postgres.mail_outbox import SCHEMA as MAIL_SCHEMA
from adapters.postgres.mail_outbox import queue_mails
from adapters.postgres.schema import ensure_schema
from domain.accounts.callbacks import Callbacks
from domain.messaging.batches import CarrierReport, DeliveryBatch, ReplyBatch
from projections import replies as read_model
from projections.messaging_queries import ReplyCandidates
from projections.runner import ProjectionRunner
from services.forwarding import (
    ForwardedReply,
    outcome_callbacks,
    reply_callbacks,
    status_callbacks,
)
from services.inbound_numbers import HeldNumbers
from services.replies import IncomingReply, ReplyCorrelation

CALLBACKS_CACHE_SECONDS = 5.0
"""How long a follower keeps an account's callbacks before it reads them again: a change
applies to replies and reports from a few seconds after it."""


class AccountCallbacks:
    """Accounts' callbacks, read from Accounts and kept for ``CALLBACKS_CACHE_SECONDS``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.cache: dict[UUID, tuple[float, Callbacks]] = {}

    def __call__(self, account_id: UUID) -> Callbacks:
        now = time.monotonic()
        cached = self.cache.get(account_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        callbacks = self.backend.accounts.account(account_id).callbacks
        self.cache[account_id] = (now + CALLBACKS_CACHE_SECONDS, callbacks)
        return callbacks


class RepliesFollower:
    """A projection whose views are Inbound, the opt-out lists and ``inbound_replies``."""

    name = "replies"
    topics = (get_topic(ReplyBatch.Recorded),)

    def __init__(self, backend: Backend, public_url: str | None = None) -> None:
        if backend.pool is None or backend.contact_services is None:
            raise RuntimeError("the replies follower needs PostgreSQL")
        self.correlation = ReplyCorrelation(
            backend.inbound,
            ReplyCandidates(backend.pool),
            backend.keyring,
            backend.contact_services.privacy,
            lambda account_id: backend.accounts.account(account_id).stop_words,
            dedicated=HeldNumbers(backend.inbound),
        )
        self.keys = backend.keyring
        self.callbacks_of = AccountCallbacks(backend)
        self.public_url = public_url

    def setup(self, conn: Any) -> None:
        read_model.setup(conn)
        outbox.setup(conn)
        ensure_schema(conn, MAIL_SCHEMA)

    def process(self, conn: Any, events: Sequence[tuple[int, Any]]) -> None:
        now = datetime.now(UTC)
        for notification_id, event in events:
            if not isinstance(event, ReplyBatch.Recorded):
                continue
            for reply in event.replies:
                incoming = IncomingReply(
                    reply_id=reply.reply_id,
                    route=reply.route,
                    number=reply.sender.value,
                    recipient=reply.recipient,
                    text=reply.text.value,
                    received_at=reply.received_at,
                )
                recorded = self.correlation.correlate(incoming, now)
                read_model.save(conn, {
                    "reply_id": reply.reply_id, "notification_id": notification_id,
                    "route": reply.route, "sender_hash": reply.sender_hash,
                    "recipient": reply.recipient, "account_id": recorded.account_id,
                    "message_id": recorded.message_id, "send_id": recorded.send_id,
                    "rule": recorded.rule.value, "stop": recorded.stop,
                    "received_at": reply.received_at, "incomplete": reply.incomplete,
                })  # fmt: skip
                if recorded.account_id is None:
                    continue
                self._forward(conn, ForwardedReply(
                    reply_id=reply.reply_id, account_id=recorded.account_id,
                    message_id=recorded.message_id, send_id=recorded.send_id,
                    number=incoming.number, key_id=reply.sender.key_id, to=reply.recipient,
                    text=incoming.text, received_at=reply.received_at, stop=recorded.stop,
                    incomplete=reply.incomplete,
                ), now)  # fmt: skip

    def _forward(self, conn: Any, reply: ForwardedReply, now: datetime) -> None:
        link = None
        if self.public_url and reply.message_id:
            link = f"{self.public_url.rstrip('/')}/app/nachrichten/{reply.message_id}"
        queued, mails = reply_callbacks(reply, self.callbacks_of(reply.account_id), now, link)
        outbox.queue(conn, self.keys, queued)
        queue_mails(conn, mails, now)


class StatusCallbacksFollower:
    """A projection whose view is the webhook outbox: each delivery report of an account with
    a status webhook becomes its ``message.status`` call, and so does each submit outcome that
    ends a message without a report (refused by the carrier, cancelled, expired unsent)."""

    name = "status_callbacks"
    topics = (get_topic(DeliveryBatch.Recorded), get_topic(CarrierReport.Recorded))

    def __init__(self, backend: Backend) -> None:
        self.keys = backend.keyring
        self.callbacks_of = AccountCallbacks(backend)

    def setup(self, conn: Any) -> None:
        outbox.setup(conn)

    def process(self, conn: Any, events: Sequence[tuple[int, Any]]) -> None:
        now = datetime.now(UTC)
        for _, event in events:
            if isinstance(event, CarrierReport.Recorded):
                queued = outcome_callbacks(event.results, self.callbacks_of, now)
                outbox.queue(conn, self.keys, queued)
            elif isinstance(event, DeliveryBatch.Recorded):
                outbox.queue(
                    conn, self.keys, status_callbacks(event.reports, self.callbacks_of, now)
                )


def replies_runner(
    backend: Backend, own: ConnectionPool[Any], public_url: str | None = None
) -> ProjectionRunner:
    """The follower's runner. Its transaction (the position and the rows) is on a connection
    of ``own`` (one is enough): the correlation it runs meanwhile takes the backend's pool's
    connections for its lookups, keys and opt-outs, which would otherwise wait on the very
    connection the runner holds."""
    follower = RepliesFollower(backend, public_url)
    return ProjectionRunner(backend.messaging, [follower], own, batch_size=50,
                            topics=follower.topics)  # fmt: skip


def status_runner(backend: Backend, own: ConnectionPool[Any]) -> ProjectionRunner:
    """The status follower's runner, on a connection of ``own`` for the same reason (it reads
    accounts' callbacks while it holds its transaction)."""
    follower = StatusCallbacksFollower(backend)
    return ProjectionRunner(backend.messaging, [follower], own, batch_size=50,
                            topics=follower.topics)  # fmt: skip


def runner_pool(backend: Backend) -> ConnectionPool[Any]:
    """A pool of one connection for ``replies_runner``, to the backend's database."""
    if backend.pool is None:
        raise RuntimeError("the replies follower needs PostgreSQL")
    return ConnectionPool(backend.pool.conninfo, min_size=1, max_size=1, open=True,
                          name="kontor-replies")  # fmt: skip
