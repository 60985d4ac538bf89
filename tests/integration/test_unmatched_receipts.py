"""A delivery report that never matches a sent message is kept for support before it leaves
JetStream: recorded as an event once, shown at ``GET /v1/admin/receipts/unmatched``."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from adapters.crypto.inbound_keys import inbound_key_id
from adapters.jetstream.payloads import InboundBatch, InboundPdu, encoder
from adapters.smpp.codec import encode
from adapters.smpp.pdu import DeliverSm
from domain.messaging.batches import UnmatchedReceipts
from projections import messaging_queries as q
from services.receipts import MAX_PARKED_DELIVERIES
from settings import Settings
from tests.support.api import running_api
from workers.ingest import Ingest
from workers.projections import messaging_runner

RECEIPT = (
    "id:0A1B2C3D sub:001 dlvrd:001 submit date:2611251335 done date:2611251336"
    " stat:UNDELIV err:034 text:Ihr Code"
)


@dataclass
class FakeMsg:
    """A JetStream message as the ingest sees it (data, metadata, ack/nak/term)."""

    data: bytes
    delivered: int
    stream_seq: int
    outcome: list[str] = field(default_factory=list)

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(
            num_delivered=self.delivered, sequence=SimpleNamespace(stream=self.stream_seq)
        )

    async def ack(self) -> None:
        self.outcome.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.outcome.append("nak")

    async def term(self) -> None:
        self.outcome.append("term")


def _stored_receipt(ingest: Ingest, route: str, delivered: int, seq: int) -> FakeMsg:
    keyring = ingest.backend.keyring
    keyring.create_key(inbound_key_id(route))
    pdu = DeliverSm(
        esm_class=0x04,
        source_addr="4915112345678",
        destination_addr="Kontor",
        short_message=RECEIPT.encode("latin-1"),
    )
    sealed = keyring.seal(inbound_key_id(route), encode(pdu, 7))
    batch = InboundBatch([InboundPdu(route, "sim", time.time(), sealed)])
    return FakeMsg(encoder.encode(batch), delivered, seq)


def test_an_unmatched_receipt_waits_then_is_kept_once_and_shown_to_support(
    settings_for_tests: Settings, fresh_database_url: str
) -> None:
    settings = replace(
        settings_for_tests, database_url=fresh_database_url, nats_url="nats://127.0.0.1:9"
    )
    with running_api(settings) as harness:
        backend = harness.backend
        ingest = Ingest(SimpleNamespace(backend=backend))  # type: ignore[arg-type]
        route = "sim-1"

        early = _stored_receipt(ingest, route, delivered=1, seq=41)
        asyncio.run(ingest.process([early]))
        assert early.outcome == ["nak"]  # parked: its submit result may still come

        given_up = _stored_receipt(ingest, route, MAX_PARKED_DELIVERIES, seq=42)
        asyncio.run(ingest.process([given_up]))
        assert given_up.outcome == ["term"]
        # Offered again (the ingest died before the term reached NATS): kept only once.
        again = _stored_receipt(ingest, route, MAX_PARKED_DELIVERIES + 1, seq=42)
        asyncio.run(ingest.process([again]))
        assert again.outcome == ["term"]

        recorder = backend.messaging.recorder
        kept = [
            n
            for n in recorder.select_notifications(start=0, limit=1000)
            if n.topic.endswith("UnmatchedReceipts.Recorded")
        ]
        assert len(kept) == 1
        assert b"4915112345678" not in kept[0].state  # the handset is sealed
        event = backend.messaging.mapper.to_domain_event(kept[0])
        assert isinstance(event, UnmatchedReceipts.Recorded)
        (receipt,) = event.receipts
        assert (receipt.carrier, receipt.carrier_id, receipt.state) == (
            "sim",
            "0A1B2C3D",
            "undeliverable",
        )
        assert receipt.error_code == "034"
        assert receipt.deliveries == MAX_PARKED_DELIVERIES

        messaging_runner(backend).catch_up()
        rows = q.unmatched_receipts(
            backend.pool,  # type: ignore[arg-type]
            number_hash=None,
            carrier_id="0A1B2C3D",
            start=None,
            end=None,
            after=None,
            limit=10,
        )
        assert len(rows) == 1

        client, admin = harness.client, harness.admin
        found = client.get(
            "/v1/admin/receipts/unmatched", params={"number": "+49 151 12345678"}, headers=admin
        )
        assert found.status_code == 200, found.text
        (shown,) = found.json()["receipts"]
        assert shown["number"] == "+4915112345678"
        assert shown["carrier_id"] == "0A1B2C3D"
        assert shown["final"] is True
        other = client.get(
            "/v1/admin/receipts/unmatched", params={"number": "+4915199999999"}, headers=admin
        )
        assert other.json()["receipts"] == []
        customer = harness.register()
        forbidden = client.get("/v1/admin/receipts/unmatched", headers=customer.headers)
        assert forbidden.status_code == 403
        bad = client.get(
            "/v1/admin/receipts/unmatched", params={"number": "not a number"}, headers=admin
        )
        assert bad.status_code == 422
        bad_cursor = client.get(
            "/v1/admin/receipts/unmatched", params={"cursor": "yesterday"}, headers=admin
        )
        assert bad_cursor.status_code == 422
        assert bad_cursor.json()["type"].endswith("invalid-cursor")
