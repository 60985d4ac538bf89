"""A recorded chunk goes to JetStream as exactly the bytes, subject and ``Nats-Msg-Id`` it always
did: JetStream drops a republished batch only if both are unchanged, so a release that changed
them would send a chunk the relay publishes again after an upgrade twice. (The expected payload
is what the relay published before the stored events had structs of their own.)"""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from adapters.jetstream.outbox import publications
from adapters.jetstream.topology import Topology
from domain.messaging.batches import MessageChunk

CHUNK = UUID("2b9f3c1e-7d6a-4e5b-8c9d-0e1f2a3b4c5d")
STORED = (
    b'{"send_id":"8c9f1f4e-3f4a-4f57-9f3c-2b1f0f1e2d3c","chunk":3,'
    b'"account_id":"0d4b8f1e-5a1c-4c43-8d0e-5f5b6a7c8d9e","lane":"bulk","sender":"Kontor",'
    b'"tariff":"quality","messages":[{"index":1500,'
    b'"message_id":"6b0b4c5e-1f2a-4b3c-9d4e-5f6a7b8c9d0e","number_hash":"3f1a",'
    b'"number":{"k":"9d7c1f2e4b6a5c3d8e1f2a3b4c5d6e7f","c":"bnVtYmVy"},'
    b'"text":{"k":"9d7c1f2e4b6a5c3d8e1f2a3b4c5d6e7f","c":"dGV4dA=="},"region":"DE",'
    b'"encoding":"gsm7","parts":1,"price":790,"delivery_reports":true},{"index":1501,'
    b'"message_id":"7c1d5e6f-2a3b-4c4d-8e5f-6a7b8c9d0e1f","number_hash":"4a2b",'
    b'"number":{"k":"1e2d3c4b5a6978877665544332211000","c":null},'
    b'"text":{"k":"1e2d3c4b5a6978877665544332211000","c":null},"region":"AT",'
    b'"encoding":"ucs2","parts":2,"price":1580,"delivery_reports":false}],'
    b'"expires_at":"2026-03-05T09:00:00Z","timestamp":"2026-03-02T09:00:00.250000Z",'
    b'"originator_topic":"domain.messaging.batches:MessageChunk","class_version":2}'
)
STORED_BEFORE_EXPIRY = STORED.replace(b'"expires_at":"2026-03-05T09:00:00Z",', b"").replace(
    b',"class_version":2', b""
)
"""The same chunk as stored before chunks kept their send's expiry (class version 1)."""
PUBLISHED = (
    b'{"messages":[{"message_id":"6b0b4c5e-1f2a-4b3c-9d4e-5f6a7b8c9d0e",'
    b'"send_id":"8c9f1f4e-3f4a-4f57-9f3c-2b1f0f1e2d3c",'
    b'"account_id":"0d4b8f1e-5a1c-4c43-8d0e-5f5b6a7c8d9e","index":1500,"lane":"bulk",'
    b'"sender":"Kontor","tariff":"quality","region":"DE","number_hash":"3f1a",'
    b'"number":{"k":"9d7c1f2e4b6a5c3d8e1f2a3b4c5d6e7f","c":"bnVtYmVy"},'
    b'"text":{"k":"9d7c1f2e4b6a5c3d8e1f2a3b4c5d6e7f","c":"dGV4dA=="},"encoding":"gsm7",'
    b'"parts":1,"price":790,"delivery_reports":true,"recorded_at":1772442000.25,'
    b'"expires_at":1772701200.0},{"message_id":"7c1d5e6f-2a3b-4c4d-8e5f-6a7b8c9d0e1f",'
    b'"send_id":"8c9f1f4e-3f4a-4f57-9f3c-2b1f0f1e2d3c",'
    b'"account_id":"0d4b8f1e-5a1c-4c43-8d0e-5f5b6a7c8d9e","index":1501,"lane":"bulk",'
    b'"sender":"Kontor","tariff":"quality","region":"AT","number_hash":"4a2b",'
    b'"number":{"k":"1e2d3c4b5a6978877665544332211000","c":null},'
    b'"text":{"k":"1e2d3c4b5a6978877665544332211000","c":null},"encoding":"ucs2",'
    b'"parts":2,"price":1580,"delivery_reports":false,"recorded_at":1772442000.25,'
    b'"expires_at":1772701200.0}]}'
)


def notification(topic: str, state: bytes) -> Notification:
    return Notification(id=7, originator_id=CHUNK, originator_version=1, topic=topic, state=state)


@pytest.mark.parametrize("recorded", [MessageChunk.Recorded, MessageChunk.TransactionalRecorded])
@pytest.mark.parametrize(
    ("state", "published"),
    [
        (STORED, PUBLISHED),
        (
            STORED_BEFORE_EXPIRY,
            PUBLISHED.replace(b'"expires_at":1772701200.0', b'"expires_at":null'),
        ),
    ],
    ids=["v2", "v1"],
)
def test_a_recorded_chunk_is_published_as_it_always_was(
    recorded: type[MessageChunk.Recorded], state: bytes, published: bytes
) -> None:
    (publication,) = publications(Topology("kontor"), notification(get_topic(recorded), state))
    assert publication.subject == "kontor.out.bulk.0d4b8f1e5a1c4c438d0e5f5b6a7c8d9e"
    assert publication.headers == {"Nats-Msg-Id": f"{CHUNK}:1:0"}
    assert publication.payload == published
