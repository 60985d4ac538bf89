"""The carrier sender's question to the Messaging application: was this send cancelled?

``SendCancellations`` is ``services.submission.Cancellations``: one load of the send (its last
snapshot and the events after it); the service asks it at most once a second per send."""

from __future__ import annotations

from uuid import UUID

from domain.messaging.application import Messaging
from domain.messaging.send import SendState


class SendCancellations:
    def __init__(self, messaging: Messaging) -> None:
        self.messaging = messaging

    def cancelled(self, send_id: UUID) -> bool:
        return self.messaging.send(send_id).state == SendState.CANCELLED
