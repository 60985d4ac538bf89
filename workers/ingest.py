"""DLR and MO ingest: turns the deliver_sm PDUs in ``<P>_INBOUND`` into events.

The carrier sender stores the PDUs of a bind that arrive together as one ``InboundBatch``.

A receipt's carrier id is matched through the carrier-id index (written with the submit result
it belongs to). A receipt that arrives before its submit_sm_resp was recorded finds nothing yet:
it is parked (negatively acknowledged with a growing delay) and matched on a later delivery;
a batch's early receipts are parked on their own: each is stored again as a batch of one, and
the batch is acknowledged. A receipt still unmatched after ``MAX_PARKED_DELIVERIES`` offers
(about half an hour) is kept as an ``UnmatchedReceipts`` event for support (the first copy of a
submit whose answer never came, a carrier's stray) and only then dropped from JetStream. A
reply (MO) is stored as a raw reply event; correlation and forwarding come later. Messages are
acknowledged only after their events are saved; a redelivered one records a duplicate report,
which the read models ignore (a report never moves a message backwards).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.crypto.inbound_keys import (
    INBOUND_NAMESPACE,
    PLATFORM_LOOKUP,
    inbound_key_id,
    reply_key_id,
)
from adapters.jetstream.payloads import InboundBatch, InboundPdu, encoder, inbound_decoder
from adapters.smpp.codec import decode
from adapters.smpp.message_id import message_id_candidates
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import (
    Receipt,
    ReceiptParseError,
    is_receipt,
    message_bytes,
    parse_receipt,
)
from domain.messaging.records import DeliveryReport, Reply, UnmatchedReceipt
from domain.personal import PersonalData
from domain.phone.exceptions import PhoneError
from domain.phone.parser import PhoneNumberParser
from settings import Settings
from workers.claims import Claims
from workers.runtime import WorkerRuntime, worker_runtime

log = logging.getLogger(__name__)
MAX_PARKED_DELIVERIES = 40
BATCH = 1000
GATHER = 0.05


@dataclass(frozen=True, eq=False)
class Item:
    """One PDU of a fetched NATS message (an ``InboundBatch``)."""

    msg: Any
    position: int
    size: int
    """PDUs in ``msg``."""
    inbound: InboundPdu


@dataclass(frozen=True, eq=False)
class Early:
    """A receipt no recorded submit result matched (yet)."""

    item: Item
    carrier: str
    receipt: Receipt
    handset: str
    """The receipt's source address: the number the message went to."""
    at: datetime


class Ingest:
    def __init__(self, runtime: WorkerRuntime) -> None:
        self.runtime = runtime
        self.backend = runtime.backend
        pool = runtime.backend.pool
        if pool is None:
            raise RuntimeError("the ingest needs PostgreSQL")
        self.pool = pool
        Claims(pool)  # the carrier-id index it matches through, if no carrier sender made it yet
        self.numbers = PhoneNumberParser()

    async def run(self) -> None:
        js = self.runtime.nats.jetstream
        topology = self.runtime.topology
        subscription = await js.pull_subscribe(
            f"{topology.prefix}.inbound.>",
            durable=topology.consumer("ingest"),
            stream=topology.inbound_stream,
            config=ConsumerConfig(
                ack_policy=AckPolicy.EXPLICIT, ack_wait=60, max_ack_pending=20_000
            ),
        )
        while not self.runtime.stop.is_set():
            try:
                msgs = await subscription.fetch(500, timeout=0.2)
            except (TimeoutError, NatsTimeout):
                continue
            try:
                await self.process(msgs)
            except Exception:
                log.exception("ingest batch failed; it will be redelivered")
                await asyncio.sleep(1.0)

    async def process(self, msgs: list[Any]) -> None:
        decoded = await asyncio.to_thread(self._decode, msgs)
        receipts = [(m, route, pdu, at) for m, route, pdu, at in decoded if is_receipt(pdu)]
        replies = [(m, route, pdu, at) for m, route, pdu, at in decoded if not is_receipt(pdu)]
        matched, parked = await asyncio.to_thread(self._match, receipts)
        reply_events = [self._reply(route, pdu, at) for _, route, pdu, at in replies]
        await asyncio.to_thread(self._record, matched, reply_events)
        waiting: dict[int, list[Early]] = defaultdict(list)
        for early_receipt in parked:
            waiting[id(early_receipt.item.msg)].append(early_receipt)
        for msg in msgs:
            early = waiting.get(id(msg))
            if not early:
                await msg.ack()
            elif early[0].item.size == 1:
                delivered = msg.metadata.num_delivered if msg.metadata else 1
                if delivered >= MAX_PARKED_DELIVERIES:
                    await asyncio.to_thread(self._keep_unmatched, msg, early, delivered)
                    await msg.term()
                else:
                    await msg.nak(delay=min(60.0, 0.5 * 2 ** min(delivered, 7)))
            else:
                await self._park_alone(msg, [e.item for e in early])
                await msg.ack()

    def _keep_unmatched(self, msg: Any, early: list[Early], delivered: int) -> None:
        """Record receipts that waited long enough for their submit result, before they leave
        JetStream; the id derives from the NATS message, so a second try records nothing."""
        stored = (
            msg.metadata.sequence.stream if msg.metadata else hashlib.sha256(msg.data).hexdigest()
        )
        keyring = self.backend.keyring
        receipts = []
        for e in early:
            number, number_hash, key = self._person(e.handset)
            keyring.create_key(key)
            receipts.append(
                UnmatchedReceipt(
                    receipt_id=uuid5(INBOUND_NAMESPACE, f"unmatched:{stored}:{e.item.position}"),
                    carrier=e.carrier,
                    carrier_id=e.receipt.message_id,
                    state=e.receipt.state.value,
                    status_text=e.receipt.status_text or "",
                    error_code=e.receipt.error_code,
                    final=e.receipt.state.final,
                    done_at=e.receipt.done_date,
                    received_at=e.at,
                    number_hash=number_hash,
                    number=PersonalData(key, number),
                    deliveries=delivered,
                )
            )
        batch_id = uuid5(INBOUND_NAMESPACE, f"unmatched:{stored}")
        if self.backend.messaging.record_unmatched(batch_id, receipts):
            log.warning(
                "receipt never matched; kept for support",
                extra={"carrier_ids": [r.carrier_id for r in receipts], "deliveries": delivered},
            )

    async def _park_alone(self, msg: Any, early: list[Item]) -> None:
        """Store a batch's early receipts again, each as a batch of one (which is then parked
        like any single receipt); the same ids if this is done twice, so JetStream drops the
        second copy."""
        js = self.runtime.nats.jetstream
        batch = msg.metadata.sequence.stream if msg.metadata else hash(msg.data)
        stored = [
            await js.publish_async(
                msg.subject,
                encoder.encode(InboundBatch([item.inbound])),
                headers={"Nats-Msg-Id": f"parked:{batch}:{item.position}"},
            )
            for item in early
        ]
        await asyncio.gather(*stored)

    def _decode(self, msgs: list[Any]) -> list[tuple[Item, str, DeliverSm, datetime]]:
        out = []
        for msg in msgs:
            items = inbound_decoder.decode(msg.data).items
            for position, inbound in enumerate(items):
                raw = self.backend.keyring.open(inbound_key_id(inbound.route), inbound.pdu)
                envelope = decode(raw) if raw is not None else None
                if envelope is None or not isinstance(envelope.pdu, DeliverSm):
                    log.warning("inbound PDU unreadable; dropped", extra={"route": inbound.route})
                    continue
                at = datetime.fromtimestamp(inbound.received_at, UTC)
                # Receipts match by carrier account; replies are kept per bind.
                source = inbound.carrier if is_receipt(envelope.pdu) else inbound.route
                out.append((Item(msg, position, len(items), inbound), source, envelope.pdu, at))
        return out

    def _match(
        self, receipts: list[tuple[Item, str, DeliverSm, datetime]]
    ) -> tuple[dict[str, list[DeliveryReport]], list[Early]]:
        parsed = []
        for item, route, pdu, at in receipts:
            try:
                parsed.append((item, route, parse_receipt(pdu), at, pdu.source_addr))
            except ReceiptParseError as exc:
                log.warning("unreadable receipt dropped", extra={"reason": str(exc)})
        keys = {
            (route, key)
            for _, route, r, _, _ in parsed
            for key in message_id_candidates(r.message_id)
        }
        index = self._lookup(keys)
        matched: dict[str, list[DeliveryReport]] = defaultdict(list)
        parked: list[Early] = []
        for item, route, receipt, at, handset in parsed:
            hit = next(
                (
                    index[(route, k)]
                    for k in message_id_candidates(receipt.message_id)
                    if (route, k) in index
                ),
                None,
            )
            if hit is None:
                parked.append(Early(item, route, receipt, handset, at))
                continue
            message_id, send_id, account_id, part = hit
            matched[route].append(
                DeliveryReport(
                    message_id=message_id,
                    send_id=send_id,
                    account_id=account_id,
                    part=part,
                    carrier_id=receipt.message_id,
                    state=receipt.state.value,
                    status_text=receipt.status_text or "",
                    error_code=receipt.error_code,
                    final=receipt.state.final,
                    done_at=receipt.done_date,
                    received_at=at,
                    source="deliver_sm",
                )
            )
        return matched, parked

    def _lookup(
        self, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[UUID, UUID, UUID, int]]:
        if not keys:
            return {}
        routes = [k[0] for k in keys]
        ids = [k[1] for k in keys]
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT c.carrier, c.carrier_id, c.message_id, c.send_id, c.account_id, c.part"
                " FROM carrier_ids c JOIN unnest(%b::text[], %b::text[]) AS k(carrier, carrier_id)"
                " USING (carrier, carrier_id)",
                (routes, ids),
            ).fetchall()
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}

    def _person(self, address: str) -> tuple[str, str, UUID]:
        """A handset a carrier names (a reply's sender, an unmatched receipt's recipient): its
        number (E.164 where it parses), the platform-wide lookup hash and that person's key."""
        try:
            number = self.numbers.parse("+" + address.lstrip("+")).e164
        except PhoneError:
            number = address
        number_hash = self.backend.keyring.lookup_hash(PLATFORM_LOOKUP, number)
        return number, number_hash, reply_key_id(number_hash)

    def _reply(self, route: str, pdu: DeliverSm, at: datetime) -> tuple[str, Reply]:
        body = message_bytes(pdu)
        text = (
            body.decode("utf-16-be", "replace") if pdu.data_coding == 8 else body.decode("latin-1")
        )
        number, sender_hash, key = self._person(pdu.source_addr)
        identity = hashlib.sha256(body + pdu.source_addr.encode() + at.isoformat().encode())
        reply = Reply(
            reply_id=uuid5(INBOUND_NAMESPACE, identity.hexdigest()),
            route=route,
            sender_hash=sender_hash,
            sender=PersonalData(key, number),
            recipient=pdu.destination_addr,
            text=PersonalData(key, text),
            received_at=at,
        )
        return route, reply

    def _record(
        self, matched: dict[str, list[DeliveryReport]], replies: list[tuple[str, Reply]]
    ) -> None:
        messaging = self.backend.messaging
        for route, reports in matched.items():
            messaging.record_deliveries(route, reports)
        by_route: dict[str, list[Reply]] = defaultdict(list)
        for route, reply in replies:
            self.backend.keyring.create_key(reply.sender.key_id)
            by_route[route].append(reply)
        for route, batch in by_route.items():
            messaging.record_replies(route, batch)


async def main(settings: Settings) -> int:
    async with worker_runtime(settings, "ingest") as runtime:
        await Ingest(runtime).run()
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
