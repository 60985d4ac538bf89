"""The receipt tap: every deliver_sm a bind receives (receipts and replies) is sealed under the
route's inbound key and stored in ``<P>_INBOUND`` before the SMPP client answers it, so the SMSC
delivers again anything we did not keep. Those that arrive together are stored as one
``InboundBatch`` (see ``InboundStore``). The DLR and MO ingest (``workers.ingest``) reads them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from adapters.carriers import Bind
from adapters.crypto.inbound_keys import inbound_key_id
from adapters.jetstream.payloads import InboundBatch, InboundPdu, encoder
from adapters.smpp.codec import encode
from adapters.smpp.pdu import DeliverSm
from services.ports import Keys


class InboundStore:
    """Stores a bind's deliver_sm PDUs in JetStream, those that arrive together as one batch.

    ``store`` returns once the PDU is stored (then the client answers it). The first PDU of a
    batch schedules the publish for the event loop's next turn, after every PDU read from the
    socket meanwhile has joined it: no timer, no added wait, and one publish and one
    acknowledgement for up to ``MAX_ITEMS`` PDUs instead of one each."""

    MAX_ITEMS = 500

    def __init__(self, js: Any, subject: str) -> None:
        self.js = js
        self.subject = subject
        self.pending: list[tuple[InboundPdu, bytes, asyncio.Future[None]]] = []
        self.scheduled = False
        self.publishing: set[asyncio.Task[None]] = set()

    async def store(self, item: InboundPdu, raw: bytes) -> None:
        loop = asyncio.get_running_loop()
        stored: asyncio.Future[None] = loop.create_future()
        self.pending.append((item, raw, stored))
        if len(self.pending) >= self.MAX_ITEMS:
            self._flush()
        elif not self.scheduled:
            self.scheduled = True
            loop.call_soon(self._flush)
        await stored

    def _flush(self) -> None:
        self.scheduled = False
        batch, self.pending = self.pending, []
        if batch:
            task = asyncio.create_task(self._publish(batch))
            self.publishing.add(task)
            task.add_done_callback(self.publishing.discard)

    async def _publish(self, batch: list[tuple[InboundPdu, bytes, asyncio.Future[None]]]) -> None:
        try:
            # The same PDUs give the same id: a batch published twice is stored once.
            digest = hashlib.sha256(b"".join(raw for _, raw, _ in batch)).hexdigest()
            ack = await self.js.publish_async(
                self.subject,
                encoder.encode(InboundBatch([item for item, _, _ in batch])),
                headers={"Nats-Msg-Id": digest},
            )
            await ack
        except Exception as exc:  # noqa: BLE001 - each waiting PDU gets the failure
            for _, _, stored in batch:
                if not stored.done():
                    stored.set_exception(exc)
        else:
            for _, _, stored in batch:
                if not stored.done():
                    stored.set_result(None)


class ReceiptTap:
    def __init__(self, keys: Keys, bind: Bind, store: InboundStore) -> None:
        self.keys = keys
        self.bind = bind
        self.store = store

    async def on_deliver(self, pdu: DeliverSm) -> None:
        """Seal and store a deliver_sm; returning lets the client answer it."""
        raw = encode(pdu, 1)
        # The route's key was loaded at start (see CarrierBind.run): sealing needs no database.
        sealed = self.keys.seal(inbound_key_id(self.bind.name), raw)
        message = InboundPdu(
            route=self.bind.name, carrier=self.bind.carrier, received_at=time.time(), pdu=sealed
        )
        await self.store.store(message, raw)
