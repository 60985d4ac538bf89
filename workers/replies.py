"""The replies follower: follows the Messaging notification log for the replies (MO) the
ingest recorded and hands each to ``services.replies``, which correlates it to the message it
answers (recorded in Inbound) and honours STOP; the reply's row of the read model
(``projections.replies``) is written in the same transaction as the follower's position, so a
crash repeats a batch, which the correlation's idempotency makes harmless. It runs in the
projections worker, beside the read models it feeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from adapters.backend import Backend
from domain.messaging.batches import ReplyBatch
from projections import replies as read_model
from projections.messaging_queries import ReplyCandidates
from projections.runner import ProjectionRunner
from services.replies import IncomingReply, ReplyCorrelation


class RepliesFollower:
    """A projection whose views are Inbound, the opt-out lists and ``inbound_replies``."""

    name = "replies"
    topics = (get_topic(ReplyBatch.Recorded),)

    def __init__(self, backend: Backend) -> None:
        if backend.pool is None or backend.contact_services is None:
            raise RuntimeError("the replies follower needs PostgreSQL")
        self.correlation = ReplyCorrelation(
            backend.inbound,
            ReplyCandidates(backend.pool),
            backend.keyring,
            backend.contact_services.privacy,
            lambda account_id: backend.accounts.account(account_id).stop_words,
        )

    def setup(self, conn: Any) -> None:
        read_model.setup(conn)

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


def replies_runner(backend: Backend, own: ConnectionPool[Any]) -> ProjectionRunner:
    """The follower's runner. Its transaction (the position and the rows) is on a connection
    of ``own`` (one is enough): the correlation it runs meanwhile takes the backend's pool's
    connections for its lookups, keys and opt-outs, which would otherwise wait on the very
    connection the runner holds."""
    follower = RepliesFollower(backend)
    return ProjectionRunner(backend.messaging, [follower], own, batch_size=50,
                            topics=follower.topics)  # fmt: skip


def runner_pool(backend: Backend) -> ConnectionPool[Any]:
    """A pool of one connection for ``replies_runner``, to the backend's database."""
    if backend.pool is None:
        raise RuntimeError("the replies follower needs PostgreSQL")
    return ConnectionPool(backend.pool.conninfo, min_size=1, max_size=1, open=True,
                          name="kontor-replies")  # fmt: skip
