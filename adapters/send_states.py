"""The carrier sender's question to the Messaging application: which of these sends were
cancelled?

``SendCancellations`` is ``services.submission.Cancellations``. On PostgreSQL it is one
statement for all the sends a batch names: whether each has a ``Send.Cancelled`` event (the
events stay where they were stored, snapshots or not, and a cancelled send stays cancelled).
A batch of single sends names as many sends as messages: one load of each send's aggregate
was one round trip per message. In memory (tests, the POPO recorder) each send is loaded.
The service asks about a send at most once a second."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from domain.messaging.application import Messaging
from domain.messaging.send import Send, SendState

CANCELLED_TOPIC = get_topic(Send.Cancelled)


class SendCancellations:
    def __init__(self, messaging: Messaging) -> None:
        self.messaging = messaging

    def cancelled(self, send_ids: Collection[UUID]) -> set[UUID]:
        if not send_ids:
            return set()
        recorder = self.messaging.recorder
        if not isinstance(recorder, PostgresAggregateRecorder):
            return {s for s in send_ids if self.messaging.send(s).state == SendState.CANCELLED}
        statement = SQL(
            "SELECT originator_id FROM {schema}.{table}"
            " WHERE originator_id = ANY(%s) AND topic = %s"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(statement, (list(send_ids), CANCELLED_TOPIC), prepare=True)
            return {row["originator_id"] for row in curs.fetchall()}
