"""A send keeps its expiry (its reservation's), and so do its chunks and the NATS messages
that carry them: the carrier sender never submits a message after it. Events stored before
sends kept it still load (upcast to None)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.jetstream.outbox import outbound
from domain.ledger.reservation import reservation_id_for
from domain.messaging.batches import MessageChunk
from domain.messaging.send import Send
from tests.support.api import ApiHarness


def _single(api: ApiHarness) -> UUID:
    _, sent = api.send_single()
    return UUID(sent["send_id"])


def test_a_send_its_chunks_and_their_nats_messages_carry_the_reservation_s_expiry(
    api: ApiHarness,
) -> None:
    send_id = _single(api)
    messaging = api.backend.messaging
    send = messaging.send(send_id)
    reservation = api.backend.ledger.reservation(reservation_id_for(send_id))
    assert send.expires_at == reservation.expires_at
    validity = timedelta(hours=api.settings.message_validity_hours)
    assert send.expires_at - send.created_on < validity + timedelta(seconds=5)

    (notification,) = [
        n
        for n in messaging.recorder.select_notifications(start=0, limit=100)
        if n.topic == get_topic(MessageChunk.TransactionalRecorded)
    ]
    chunk = messaging.mapper.to_domain_event(notification)
    assert isinstance(chunk, MessageChunk.Recorded)
    assert chunk.expires_at == send.expires_at
    (message,) = outbound(notification)
    assert message.expires_at == send.expires_at.timestamp()


def test_events_stored_before_sends_kept_their_expiry_still_load(api: ApiHarness) -> None:
    send_id = _single(api)
    messaging = api.backend.messaging
    mapper = messaging.mapper
    for event in messaging.events.get(send_id):
        if isinstance(event, Send.Accepted):
            accepted = event
    stored = mapper.to_stored_event(accepted)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["expires_at"]
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode()
    )
    upcast = mapper.to_domain_event(old)
    assert isinstance(upcast, Send.Accepted)
    assert upcast.expires_at is None
    assert upcast.account_id == accepted.account_id
    rebuilt: Any = upcast.mutate(None)
    assert isinstance(rebuilt, Send)
    assert rebuilt.expires_at is None

    (notification,) = [
        n
        for n in messaging.recorder.select_notifications(start=0, limit=100)
        if n.topic == get_topic(MessageChunk.TransactionalRecorded)
    ]
    chunk_state = json.loads(notification.state)
    chunk_state.pop("class_version")
    del chunk_state["expires_at"]
    old_chunk = StoredEvent(
        notification.originator_id,
        notification.originator_version,
        notification.topic,
        json.dumps(chunk_state).encode(),
    )
    old_event = mapper.to_domain_event(old_chunk)
    assert isinstance(old_event, MessageChunk.Recorded)
    assert old_event.expires_at is None
    old_notification = type(notification)(
        id=notification.id,
        originator_id=notification.originator_id,
        originator_version=notification.originator_version,
        topic=notification.topic,
        state=old_chunk.state,
    )
    (message,) = outbound(old_notification)
    assert message.expires_at is None  # the carrier falls back to recording time + validity


def test_a_send_s_snapshot_taken_before_sends_kept_their_expiry_still_loads(
    api: ApiHarness,
) -> None:
    send = api.backend.messaging.send(_single(api))
    snapshot_class = Send.Snapshot  # what the application snapshots a send with
    snapshot = snapshot_class.take(send)
    state = dict(snapshot.state)
    assert state.pop("class_version") == 2
    del state["expires_at"]
    old = snapshot_class(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    )
    restored = old.mutate(None)
    assert isinstance(restored, Send)
    assert restored.expires_at is None
    assert restored.recorded == send.recorded
