"""The stored-event structs read exactly what the real mapper stores for every Messaging event:
a field added to, renamed in or removed from a domain event fails here until its struct (in
``adapters.postgres.stored_events``) follows; sealed values open as the mapper opens them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres import stored_events as stored
from adapters.postgres.eventstore import MsgspecTranscoder, TypedMapper
from domain.personal import REDACTED, PersonalData
from tests.unit.test_event_roundtrip import IMPLICIT, event_classes, fields_of, sample

BASES = {"Event", "Created"}
"""The base classes eventsourcing gives every aggregate's events. No Messaging aggregate records
them: each declares the events it records, created ones included."""


def messaging_events() -> list[type[Any]]:
    """Every event class a Messaging aggregate records."""
    return [
        c
        for c in event_classes()
        if c.__module__.startswith("domain.messaging.") and c.__name__ not in BASES
    ]


@pytest.fixture
def mapper() -> TypedMapper:
    transcoder = MsgspecTranscoder()
    transcoder.keyring = Keyring(b"\x01" * 32, MemoryKeyStore())
    return TypedMapper(transcoder=transcoder)


def recorded(cls: type[Any], mapper: TypedMapper) -> tuple[dict[str, Any], StoredEvent]:
    """A sample event of ``cls`` with every field set, and how the mapper stores it."""
    hints = fields_of(cls)
    values = {name: sample(hint) for name, hint in hints.items() if name not in IMPLICIT}
    values.update(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC))
    if "originator_topic" in hints:
        values["originator_topic"] = "domain.example:Example"
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", dict(values))
    return values, mapper.to_stored_event(event)


def canonical(value: Any) -> str:
    """JSON with sorted keys: equal only for equal names, values and JSON types (4711 is not
    4711.0), whatever order the fields were written in."""
    return json.dumps(value, sort_keys=True)


def test_every_messaging_event_class_has_exactly_one_struct() -> None:
    structs = {struct.event_class: struct for struct in stored.STRUCTS}
    assert len(structs) == len(stored.STRUCTS)
    assert set(structs) == set(messaging_events())
    assert set(stored.DECODERS) == {get_topic(c) for c in structs}


@pytest.mark.parametrize("cls", messaging_events(), ids=lambda c: c.__qualname__)
def test_a_struct_reads_back_exactly_what_the_mapper_stored(
    cls: type[Any], mapper: TypedMapper
) -> None:
    _, stored_event = recorded(cls, mapper)
    event = stored.decode(stored_event.topic, stored_event.state)
    assert event is not None
    assert event.event_class is cls
    # Nothing lost (an added field), nothing made up (a removed or renamed one), same types.
    assert canonical(msgspec.to_builtins(event)) == canonical(json.loads(stored_event.state))


@pytest.mark.parametrize(
    "cls",
    [c for c in messaging_events() if getattr(c, "class_version", 1) > 1],
    ids=lambda c: c.__qualname__,
)
def test_an_event_stored_before_its_last_upcast_reads_as_the_mapper_upcasts_it(
    cls: type[Any], mapper: TypedMapper
) -> None:
    added: dict[str, Any] = {}
    for version in range(1, cls.class_version):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(added)
    assert added, "an upcaster that adds nothing needs a test of its own"
    _, stored_event = recorded(cls, mapper)
    current = json.loads(stored_event.state)
    old = {k: v for k, v in current.items() if k not in added and k != "class_version"}
    event = stored.decode(stored_event.topic, json.dumps(old).encode())
    assert event is not None
    assert getattr(event, "class_version", None) == 1
    upcast = mapper.to_domain_event(
        StoredEvent(stored_event.originator_id, 1, stored_event.topic, json.dumps(old).encode())
    )
    for name, value in added.items():
        assert msgspec.to_builtins(getattr(event, name)) == value
        assert msgspec.to_builtins(getattr(upcast, name)) == value


def test_sealed_values_open_as_the_mapper_opens_them(mapper: TypedMapper) -> None:
    cls = next(c for c in messaging_events() if c.__qualname__ == "MessageChunk.Recorded")
    values, stored_event = recorded(cls, mapper)
    chunk = stored.decode(stored_event.topic, stored_event.state)
    assert isinstance(chunk, stored.ChunkRecorded)
    keyring = mapper.transcoder.keyring
    message, expected = chunk.messages[0], values["messages"][0]
    assert message.number.opened(keyring) == expected.number
    assert message.text.opened(keyring) == expected.text
    assert message.number.opened(None).shown() == REDACTED  # no keyring: nothing is opened
    assert isinstance(keyring, Keyring)
    keyring.shred(expected.number.key_id)
    assert message.number.opened(keyring) == PersonalData(expected.number.key_id, None)
    assert vars(mapper.to_domain_event(stored_event))["messages"][0].number.shown() == REDACTED
    redacted = stored.Sealed(k=uuid4().hex, c=None)
    assert redacted.opened(keyring).shown() == REDACTED


def test_a_field_unknown_to_a_struct_is_ignored_while_a_newer_release_writes_it(
    mapper: TypedMapper,
) -> None:
    """A process of the previous release keeps reading during an upgrade (the test above is
    what keeps the structs complete)."""
    cls = next(c for c in messaging_events() if c.__qualname__ == "Send.ChunkRecorded")
    _, stored_event = recorded(cls, mapper)
    newer = {**json.loads(stored_event.state), "added_later": 1}
    event = stored.decode(stored_event.topic, json.dumps(newer).encode())
    assert isinstance(event, stored.SendChunkRecorded)
