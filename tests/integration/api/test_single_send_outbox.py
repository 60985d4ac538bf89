"""A single send is published to JetStream by the API as soon as it answered, under the very
``Nats-Msg-Id`` the outbox relay gives it, so the relay's copy is dropped as a duplicate; when
NATS cannot take it, the send is still accepted and the relay publishes it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any
from uuid import UUID

import nats
import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from adapters.jetstream.outbox import publications, publish_now
from adapters.jetstream.payloads import batch_decoder
from adapters.jetstream.topology import Topology
from domain.messaging.batches import MessageChunk
from settings import Settings
from tests.support.api import ApiHarness, running_api


@pytest.fixture
def api_with_streams(settings_for_tests: Settings, fresh_database_url: str) -> Any:
    settings = replace(settings_for_tests, database_url=fresh_database_url)
    topology = Topology(settings.nats_prefix, settings.nats_duplicate_window)
    asyncio.run(_ensure(str(settings.nats_url), topology))
    with running_api(settings) as harness:
        yield harness, topology


async def _ensure(url: str, topology: Topology) -> None:
    nc = await nats.connect(url)
    try:
        await topology.ensure(nc.jetstream())
    finally:
        await nc.close()


async def _stored(url: str, topology: Topology, subject: str) -> list[Any]:
    """Every NATS message on ``subject`` in the out stream (read without a consumer)."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(topology.out_stream, subjects_filter=subject)
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(topology.out_stream, seq)
            except nats.js.errors.NotFoundError:
                continue
            if msg.subject == subject:
                found.append(msg)
        return found
    finally:
        await nc.close()


async def _republish(url: str, topology: Topology, notifications: list[Any]) -> list[bool | None]:
    """What the relay does with the chunk; returns JetStream's duplicate flag per publish."""
    nc = await nats.connect(url)
    try:
        js = nc.jetstream()
        acks = [
            await js.publish(p.subject, p.payload, headers=p.headers)
            for n in notifications
            for p in publications(topology, n)
        ]
        return [ack.duplicate for ack in acks]
    finally:
        await nc.close()


def _tx_chunks(harness: ApiHarness) -> list[Any]:
    recorder = harness.backend.messaging.recorder
    return list(
        recorder.select_notifications(
            start=0, limit=100, topics=[get_topic(MessageChunk.TransactionalRecorded)]
        )
    )


def test_the_api_publishes_a_single_send_at_once_and_the_relays_copy_is_dropped(
    api_with_streams: tuple[ApiHarness, Topology],
) -> None:
    harness, topology = api_with_streams
    url = str(harness.settings.nats_url)
    customer, sent = harness.send_single()
    subject = topology.out_subject("tx", UUID(customer.account_id))

    stored = asyncio.run(_stored(url, topology, subject))  # no relay runs here
    assert len(stored) == 1
    batch = batch_decoder.decode(stored[0].data)
    assert [str(m.message_id) for m in batch.messages] == [
        m["message_id"] for m in sent["messages"]
    ]
    assert "4915112345678" not in stored[0].data.decode()  # sealed as in the event store
    chunks = _tx_chunks(harness)
    assert len(chunks) == 1
    chunk = chunks[0]
    assert stored[0].headers["Nats-Msg-Id"] == f"{chunk.originator_id}:{chunk.originator_version}:0"

    assert asyncio.run(_republish(url, topology, chunks)) == [True]
    assert len(asyncio.run(_stored(url, topology, subject))) == 1


def test_a_failed_publish_is_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    class Refusing:
        async def publish(self, *args: Any, **kwargs: Any) -> Any:
            raise TimeoutError

    class Connection:
        jetstream = Refusing()

    chunk = _chunk_notification()
    topology = Topology("t")
    assert publications(topology, chunk)  # what fails below is the publish, not the chunk
    with caplog.at_level(logging.WARNING):
        stored = asyncio.run(publish_now(Connection(), topology, [chunk]))  # type: ignore[arg-type]
    assert stored == 0
    assert "the relay will" in caplog.text


def test_with_nats_away_the_send_is_accepted_and_left_to_the_relay(
    settings_for_tests: Settings, fresh_database_url: str
) -> None:
    settings = replace(
        settings_for_tests, database_url=fresh_database_url, nats_url="nats://127.0.0.1:9"
    )
    with running_api(settings) as harness:
        _, sent = harness.send_single()
        assert sent["messages"]
        # Recorded: the relay follows the notification log and publishes it when NATS is back.
        assert len(_tx_chunks(harness)) == 1


def _chunk_notification() -> Notification:
    state = (
        b'{"send_id":"8c9f1f4e-3f4a-4f57-9f3c-2b1f0f1e2d3c","chunk":0,'
        b'"account_id":"0d4b8f1e-5a1c-4c43-8d0e-5f5b6a7c8d9e","lane":"tx","sender":"Kontor",'
        b'"tariff":"quality","timestamp":"2026-03-02T09:00:00+00:00","messages":[{"index":0,'
        b'"message_id":"6b0b4c5e-1f2a-4b3c-9d4e-5f6a7b8c9d0e","number_hash":"h",'
        b'"number":{"k":"k","c":"c"},"text":{"k":"k","c":"c"},"region":"DE",'
        b'"encoding":"gsm7","parts":1,"price":790,"delivery_reports":true}],'
        b'"originator_topic":"domain.messaging.batches:MessageChunk"}'
    )
    return Notification(
        id=1,
        originator_id=UUID("2b9f3c1e-7d6a-4e5b-8c9d-0e1f2a3b4c5d"),
        originator_version=1,
        topic=get_topic(MessageChunk.TransactionalRecorded),
        state=state,
    )
