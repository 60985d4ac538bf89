"""A message's history is read from the stored events as they are: each entry shows the fields
it always showed, and only this message's number and text are opened, not its chunk's others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest

from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres import stored_events as stored
from adapters.postgres.eventstore import MsgspecTranscoder, TypedMapper
from api.history import message_history
from domain.messaging.batches import CarrierReport, DeliveryBatch, MessageChunk
from domain.messaging.records import (
    DeliveryReport,
    Lane,
    RecordedMessage,
    SubmitOutcome,
    SubmitResult,
)
from domain.personal import REDACTED, PersonalData
from domain.tariff import Tariff

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEND, ACCOUNT = uuid4(), uuid4()


class CountingKeyring:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self.opened: list[UUID] = []

    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        self.opened.append(key_id)
        return self.keyring.open(key_id, ciphertext)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(b"\x03" * 32, MemoryKeyStore())


def message(index: int, number: str) -> RecordedMessage:
    key = uuid4()
    return RecordedMessage(
        index=index,
        message_id=uuid4(),
        number_hash=f"hash{index}",
        number=PersonalData(key, number),
        text=PersonalData(key, "Ihr Termin morgen um 10 Uhr"),
        region="DE",
        encoding="gsm7",
        parts=1,
        price=790,
        delivery_reports=True,
    )


def chunk_of(*messages: RecordedMessage, lane: Lane = Lane.BULK) -> MessageChunk:
    return MessageChunk.record(
        send_id=SEND,
        chunk=0,
        account_id=ACCOUNT,
        lane=lane,
        sender="Shop",
        tariff=Tariff.QUALITY,
        messages=messages,
    )


def result(m: RecordedMessage, outcome: SubmitOutcome, attempt: int, *ids: str) -> SubmitResult:
    status = 0x58 if outcome is SubmitOutcome.REJECTED else 0
    at = AT + timedelta(seconds=attempt)
    return SubmitResult(
        m.message_id, SEND, ACCOUNT, m.index, 1, 790, outcome, ids, status, attempt, "sim", at
    )


def delivered(m: RecordedMessage) -> DeliveryReport:
    received = AT + timedelta(minutes=1)
    return DeliveryReport(
        m.message_id, SEND, ACCOUNT, 1, "0A1B", "delivered", "DELIVRD", None, True, AT,
        received, "deliver_sm",
    )  # fmt: skip


def stored_history(keyring: Keyring, *aggregates: Any) -> list[stored.StoredEvent | None]:
    transcoder = MsgspecTranscoder()
    transcoder.keyring = keyring
    mapper = TypedMapper(transcoder=transcoder)
    states = [mapper.to_stored_event(a.collect_events()[0]) for a in aggregates]
    return [stored.decode(s.topic, s.state) for s in states]


def test_the_history_shows_each_record_about_the_message_in_order(keyring: Keyring) -> None:
    mine, other = message(0, "+4915112345678"), message(1, "+4917098765432")
    results = (
        result(mine, SubmitOutcome.UNCERTAIN, 1),
        result(other, SubmitOutcome.REJECTED, 1),
        result(mine, SubmitOutcome.ACCEPTED, 2, "0A1B"),
    )
    events = stored_history(
        keyring,
        chunk_of(mine, other),
        CarrierReport(route="sim", results=results),
        DeliveryBatch(route="sim", reports=(delivered(mine),)),
    )
    assert isinstance(events[0], stored.ChunkRecorded)
    recorded_at = msgspec.to_builtins(events[0].timestamp)
    counting = CountingKeyring(keyring)

    history = message_history(mine.message_id, [None, *events], counting)

    assert (history.to, history.text) == ("+4915112345678", "Ihr Termin morgen um 10 Uhr")
    assert set(counting.opened) == {mine.number.key_id}  # the chunk's other message stays sealed
    assert msgspec.to_builtins(history.entries) == [
        {"position": 1, "at": recorded_at, "event": "recorded",
         "details": {"parts": 1, "price": 790, "encoding": "gsm7", "region": "DE",
                     "sender": "Shop", "tariff": "quality", "lane": "bulk"}},
        {"position": 2, "at": "2026-03-02T09:00:01Z", "event": "carrier_result",
         "details": {"outcome": "uncertain", "carrier_ids": [], "command_status": 0,
                     "attempt": 1, "route": "sim"}},
        {"position": 2, "at": "2026-03-02T09:00:02Z", "event": "carrier_result",
         "details": {"outcome": "accepted", "carrier_ids": ["0A1B"], "command_status": 0,
                     "attempt": 2, "route": "sim"}},
        {"position": 3, "at": "2026-03-02T09:01:00Z", "event": "delivery_report",
         "details": {"part": 1, "carrier_id": "0A1B", "state": "delivered",
                     "status_text": "DELIVRD", "error_code": None, "final": True,
                     "done_at": "2026-03-02T09:00:00Z", "source": "deliver_sm"}},
    ]  # fmt: skip


def test_an_erased_person_s_message_shows_the_redaction_marker(keyring: Keyring) -> None:
    mine = message(0, "+4915112345678")
    events = stored_history(keyring, chunk_of(mine, lane=Lane.TRANSACTIONAL))
    keyring.shred(mine.number.key_id)

    history = message_history(mine.message_id, events, keyring)

    assert (history.to, history.text) == (REDACTED, REDACTED)
    assert [e.details["lane"] for e in history.entries] == ["tx"]


def test_a_message_no_record_names_has_no_history(keyring: Keyring) -> None:
    history = message_history(uuid4(), [None], keyring)
    assert (history.to, history.text, history.entries) == (REDACTED, REDACTED, [])
