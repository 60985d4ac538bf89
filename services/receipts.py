"""The DLR and MO ingest's decisions: which message a receipt is about, what becomes of one that
names none (yet), and the events receipts and replies turn into.

``Receipts.process`` takes one fetch of ``<P>_INBOUND`` NATS messages, each an ``InboundBatch``
of deliver_sm PDUs as the carrier sender stored them (``Offered``), and answers each:

- Every PDU is opened with its route's inbound key and decoded; an unreadable one is dropped
  (and logged). Receipts match by carrier account (an SMSC may send one over any bind of the
  account); replies are kept per bind.
- Matching: a receipt's carrier id is looked up in the carrier-id index (``CarrierIds``) under
  every key it can stand for (``message_id_candidates``: decimal, then hex), one lookup for the
  whole fetch; the first key found names the message part, and the receipt becomes a
  ``DeliveryReport``. The index names the latest submission of each id (an SMSC may hand an
  id out again after a restart) and the number it went to: a receipt from another handset is
  not about that message (an older message's late receipt, another account's), so it is taken
  as matching nothing, never attached to a stranger's message.
- A receipt whose carrier id nobody knows may be the receipt of an attempt whose answer was
  lost (its sender died between writing and recording it, or the answer never came): if its
  handset has exactly one single-part message in doubt at that carrier (``InDoubtClaims``),
  that attempt is recorded accepted under the receipt's carrier id and the receipt is its
  report; the message is then not sent again. Several in doubt for the handset: nobody can
  tell which, so none is chosen (logged), and the receipt waits like an early one.
- A receipt that arrives before its submit result was recorded finds nothing yet: it is early,
  and ``park`` decides. A NATS message without early receipts is acknowledged. A lone early
  receipt is offered again later (``Nak``, 1 s doubling up to 60 s), until it was offered
  ``MAX_PARKED_DELIVERIES`` times (about half an hour): then it is given up (``GiveUp``) and kept
  as an ``UnmatchedReceipt`` for support (the first copy of a submit whose answer never came,
  a carrier's stray) before it leaves JetStream. The early receipts of a bigger batch are
  parked alone (``ParkAlone``): each is stored again as a batch of one and the batch is
  acknowledged, so its matched receipts are not offered again with them.
- A reply (MO) becomes a raw ``Reply`` under its sender's key; correlation comes later. A part
  of a concatenated reply is kept until its message is whole, or overdue
  (``services.reply_parts``), and becomes one ``Reply`` then.

Invariants: everything is recorded before ``process`` answers, so no NATS message is
acknowledged before its events are durable; a redelivered one records a duplicate report, which
the read models ignore (a report never moves a message backwards). The ids of kept receipts
and parked copies derive from the stored NATS message (``Offered.stored``), so doing either twice
stores once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID, uuid5

from adapters.crypto.inbound_keys import INBOUND_NAMESPACE, inbound_key_id
from adapters.jetstream.payloads import InboundPdu
from adapters.smpp.codec import decode
from adapters.smpp.message_id import message_id_candidates
from adapters.smpp.mo import mo_content
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import Receipt, ReceiptParseError, is_receipt, parse_receipt
from domain.messaging.claims import InDoubt
from domain.messaging.records import DeliveryReport, Handset, Reply, ReplyPart, UnmatchedReceipt
from domain.personal import PersonalData
from services.acks import ACK, Ack, Nak
from services.handsets import Handsets, delivered_identity, handset_tail
from services.ports import Keys
from services.reply_parts import Reassembly, reply_part

log = logging.getLogger(__name__)
MAX_PARKED_DELIVERIES = 40

IndexedPart = tuple[UUID, UUID, UUID, int, str]
"""What the carrier-id index names: (message id, send id, account id, part, the handset it went
to as ``services.handsets.handset_tail``; empty for rows written before the index kept it)."""


class CarrierIds(Protocol):
    """The carrier-id index (``adapters.postgres.claims.PostgresCarrierIds``)."""

    def lookup(self, keys: Collection[tuple[str, str]]) -> Mapping[tuple[str, str], IndexedPart]:
        """The parts found for (carrier account, index key) pairs; one query."""
        ...


class InDoubtClaims(Protocol):
    """Messages whose attempt's answer was lost (``adapters.postgres.claims.PostgresInDoubt``)."""

    def in_doubt(
        self, handsets: Collection[tuple[str, str]]
    ) -> Mapping[tuple[str, str], Sequence[InDoubt]]:
        """Per (carrier, handset) asked about, the claims in doubt; one query."""
        ...

    def recover(self, doubt: InDoubt, carrier_id: str, at: datetime) -> bool:
        """Record the attempt accepted under ``carrier_id``; False if it is not in doubt any
        more (sent again meanwhile, or recovered by another receipt)."""
        ...


class ReceiptRecorder(Protocol):
    """Where receipts and replies are recorded (``domain.messaging.application.Messaging``)."""

    def record_deliveries(self, route: str, reports: Sequence[DeliveryReport]) -> object: ...

    def record_replies(self, route: str, replies: Sequence[Reply]) -> object: ...

    def record_unmatched(self, batch_id: UUID, receipts: Sequence[UnmatchedReceipt]) -> bool:
        """False when ``batch_id`` was recorded before."""
        ...


@dataclass(frozen=True, slots=True)
class Offered:
    """One NATS message of the inbound stream, as the ingest was given it."""

    items: Sequence[InboundPdu]
    deliveries: int
    """How often JetStream offered it, this time included."""
    stored: str
    """What names the stored message (its stream sequence)."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """A readable deliver_sm of an offered message."""

    offered: int
    """Which message of the fetch it came in."""
    position: int
    inbound: InboundPdu
    pdu: DeliverSm
    at: datetime


@dataclass(frozen=True, slots=True)
class Early:
    """A receipt no recorded submit result names (yet)."""

    delivered: Delivered
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class ParkAlone:
    """Store each copy (Nats-Msg-Id, PDU) again as a batch of one, then acknowledge."""

    copies: tuple[tuple[str, InboundPdu], ...]


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Its receipts waited long enough and are kept as unmatched (``process`` records them
    before it answers): the message leaves JetStream for good (term)."""

    early: tuple[Early, ...]


Answer = Ack | Nak | ParkAlone | GiveUp


def park_delay(deliveries: int) -> float:
    """Seconds before a lone early receipt is offered again: 1, 2, 4 ... then 60."""
    return min(60.0, 0.5 * 2.0 ** min(deliveries, 7))


def park(offered: Offered, early: Sequence[Early]) -> Answer:
    """The answer to an offered message, given its early receipts (see the module docstring)."""
    if not early:
        return ACK
    if len(offered.items) > 1:
        return ParkAlone(
            tuple(
                (f"parked:{offered.stored}:{e.delivered.position}", e.delivered.inbound)
                for e in early
            )
        )
    if offered.deliveries >= MAX_PARKED_DELIVERIES:
        return GiveUp(tuple(early))
    return Nak(park_delay(offered.deliveries))


def matching(
    index: Mapping[tuple[str, str], IndexedPart], carrier: str, candidates: Iterable[str]
) -> IndexedPart | None:
    """The part the first of a receipt's candidate keys names, if any does."""
    for key in candidates:
        part = index.get((carrier, key))
        if part is not None:
            return part
    return None


def delivery_report(part: IndexedPart, receipt: Receipt, at: datetime) -> DeliveryReport:
    message_id, send_id, account_id, number, _ = part
    return DeliveryReport(
        message_id=message_id,
        send_id=send_id,
        account_id=account_id,
        part=number,
        carrier_id=receipt.message_id,
        state=receipt.state.value,
        status_text=receipt.status_text or "",
        error_code=receipt.error_code,
        final=receipt.state.final,
        done_at=receipt.done_date,
        received_at=at,
        source="deliver_sm",
    )


def unmatched_receipt(early: Early, offered: Offered, handset: Handset) -> UnmatchedReceipt:
    receipt = early.receipt
    return UnmatchedReceipt(
        receipt_id=uuid5(
            INBOUND_NAMESPACE, f"unmatched:{offered.stored}:{early.delivered.position}"
        ),
        carrier=early.delivered.inbound.carrier,
        carrier_id=receipt.message_id,
        state=receipt.state.value,
        status_text=receipt.status_text or "",
        error_code=receipt.error_code,
        final=receipt.state.final,
        done_at=receipt.done_date,
        received_at=early.delivered.at,
        number_hash=handset.number_hash,
        number=PersonalData(handset.key_id, handset.number),
        deliveries=offered.deliveries,
    )


class Receipts:
    """The ingest's rules over its ports (see the module docstring)."""

    def __init__(
        self,
        *,
        index: CarrierIds,
        recorder: ReceiptRecorder,
        keys: Keys,
        reassembly: Reassembly,
        in_doubt: InDoubtClaims | None = None,
    ) -> None:
        self.index = index
        self.recorder = recorder
        self.keys = keys
        self.reassembly = reassembly
        self.in_doubt = in_doubt
        self.handsets = Handsets(keys)

    def process(self, offered: Sequence[Offered]) -> list[Answer]:
        """Record what the fetch's PDUs say; the answer to each offered message, in order."""
        receipts, replies = self._read(offered)
        reports, early = self._match(receipts)
        early = self._recover(early, reports)
        singles, parts = self._replies(replies)
        whole = self.reassembly.add(parts)
        self._record(reports, singles + [reply for reply, _ in whole])
        self.reassembly.close(whole)
        waiting: dict[int, list[Early]] = defaultdict(list)
        for e in early:
            waiting[e.delivered.offered].append(e)
        answers = []
        for n, message in enumerate(offered):
            answer = park(message, waiting.get(n, ()))
            if isinstance(answer, GiveUp):
                self._keep_unmatched(message, answer.early)
            answers.append(answer)
        return answers

    def overdue_replies(self, now: datetime) -> int:
        """Record the replies whose missing parts did not come in time, as what arrived; how
        many."""
        overdue = self.reassembly.overdue(now)
        self._record({}, [reply for reply, _ in overdue])
        self.reassembly.close(overdue)
        return len(overdue)

    def _replies(self, replies: Sequence[Delivered]) -> tuple[list[Reply], list[ReplyPart]]:
        """Replies of one deliver_sm, and parts of longer ones (their keys made: the parts are
        kept sealed)."""
        singles: list[Reply] = []
        parts: list[ReplyPart] = []
        for d in replies:
            content = mo_content(d.pdu)
            if content.concatenation is None:
                singles.append(self.handsets.reply(d.inbound.route, d.pdu, content, d.at))
                continue
            handset = self.handsets.named(d.pdu.source_addr)
            parts.append(reply_part(
                d.inbound.route, handset, d.pdu.destination_addr, content.data_coding,
                content.concatenation, content.body, delivered_identity(d.pdu, d.at), d.at,
            ))  # fmt: skip
        if parts:
            self.keys.create_keys({p.handset.key_id for p in parts})
        return singles, parts

    def _read(self, offered: Sequence[Offered]) -> tuple[list[Delivered], list[Delivered]]:
        """The fetch's readable deliver_sm: receipts, and replies."""
        receipts: list[Delivered] = []
        replies: list[Delivered] = []
        for n, message in enumerate(offered):
            for position, inbound in enumerate(message.items):
                raw = self.keys.open(inbound_key_id(inbound.route), inbound.pdu)
                envelope = decode(raw) if raw is not None else None
                if envelope is None or not isinstance(envelope.pdu, DeliverSm):
                    log.warning("inbound PDU unreadable; dropped", extra={"route": inbound.route})
                    continue
                at = datetime.fromtimestamp(inbound.received_at, UTC)
                delivered = Delivered(n, position, inbound, envelope.pdu, at)
                (receipts if is_receipt(envelope.pdu) else replies).append(delivered)
        return receipts, replies

    def _match(
        self, receipts: Sequence[Delivered]
    ) -> tuple[dict[str, list[DeliveryReport]], list[Early]]:
        """The reports of the receipts the index knows (per carrier account), and the others."""
        parsed = []
        for delivered in receipts:
            try:
                receipt = parse_receipt(delivered.pdu)
            except ReceiptParseError as exc:
                log.warning("unreadable receipt dropped", extra={"reason": str(exc)})
                continue
            parsed.append((delivered, receipt, message_id_candidates(receipt.message_id)))
        index = self.index.lookup(
            {(d.inbound.carrier, key) for d, _, candidates in parsed for key in candidates}
        )
        reports: dict[str, list[DeliveryReport]] = defaultdict(list)
        early: list[Early] = []
        for delivered, receipt, candidates in parsed:
            carrier = delivered.inbound.carrier
            part = matching(index, carrier, candidates)
            if part is not None and not self._same_handset(part, delivered.pdu.source_addr):
                log.warning(
                    "receipt from another handset than its carrier id's message; not matched",
                    extra={"carrier": carrier, "carrier_id": receipt.message_id},
                )
                part = None
            if part is None:
                early.append(Early(delivered, receipt))
            else:
                reports[carrier].append(delivery_report(part, receipt, delivered.at))
        return reports, early

    def _recover(self, early: list[Early], reports: dict[str, list[DeliveryReport]]) -> list[Early]:
        """Settle attempts whose answers were lost by the early receipts of their handsets (see
        the module docstring); the receipts still early after that."""
        if self.in_doubt is None or not early:
            return early
        handset_of = {id(e): handset_tail(self.keys, e.delivered.pdu.source_addr) for e in early}
        pairs = {(e.delivered.inbound.carrier, handset_of[id(e)]) for e in early}
        doubts = {pair: list(found) for pair, found in self.in_doubt.in_doubt(pairs).items()}
        still: list[Early] = []
        for e in early:
            carrier = e.delivered.inbound.carrier
            candidates = doubts.get((carrier, handset_of[id(e)]), [])
            if len(candidates) > 1:
                log.warning(
                    "receipt of an unknown id from a handset with several messages in doubt",
                    extra={"carrier": carrier, "carrier_id": e.receipt.message_id},
                )
            doubt = candidates[0] if len(candidates) == 1 else None
            if doubt is None or doubt.ticket.parts != 1:
                still.append(e)
                continue
            if not self.in_doubt.recover(doubt, e.receipt.message_id, e.delivered.at):
                still.append(e)
                continue
            candidates.clear()  # settled: no second receipt of this fetch takes it
            t = doubt.ticket
            part = (t.message_id, t.send_id, t.account_id, 1, t.handset)
            reports[carrier].append(delivery_report(part, e.receipt, e.delivered.at))
            log.info(
                "an attempt whose answer was lost is settled by its receipt",
                extra={"message_id": str(t.message_id), "carrier_id": e.receipt.message_id},
            )
        return still

    def _same_handset(self, part: IndexedPart, address: str) -> bool:
        """The receipt's handset is the one the indexed message went to (rows from before
        the index kept numbers are taken as they are)."""
        expected = part[4]
        return not expected or handset_tail(self.keys, address) == expected

    def _record(self, reports: dict[str, list[DeliveryReport]], replies: list[Reply]) -> None:
        for carrier, batch in reports.items():
            self.recorder.record_deliveries(carrier, batch)
        by_route: dict[str, list[Reply]] = defaultdict(list)
        for reply in replies:
            self.keys.create_key(reply.sender.key_id)
            by_route[reply.route].append(reply)
        for route, some in by_route.items():
            self.recorder.record_replies(route, some)

    def _keep_unmatched(self, offered: Offered, early: Sequence[Early]) -> None:
        """Record receipts that waited long enough for their submit result, before they leave
        JetStream; the ids derive from the stored message, so a second try records nothing."""
        receipts = []
        for e in early:
            handset = self.handsets.named(e.delivered.pdu.source_addr)
            self.keys.create_key(handset.key_id)
            receipts.append(unmatched_receipt(e, offered, handset))
        batch_id = uuid5(INBOUND_NAMESPACE, f"unmatched:{offered.stored}")
        if self.recorder.record_unmatched(batch_id, receipts):
            log.warning(
                "receipt never matched; kept for support",
                extra={
                    "carrier_ids": [r.carrier_id for r in receipts],
                    "deliveries": offered.deliveries,
                },
            )
