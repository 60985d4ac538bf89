"""In-memory fakes of the DLR and MO ingest's ports (``services.receipts``): the carrier-id
index keyed as ``adapters.postgres.claims`` keys it, the claims in doubt, and a recorder that,
like the Messaging application, records a batch of unmatched receipts only once per batch id."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from uuid import UUID

from adapters.smpp.message_id import IdFormat, canonical_message_id
from domain.messaging.claims import InDoubt
from domain.messaging.records import DeliveryReport, Reply, ReplyPart, UnmatchedReceipt
from services.receipts import IndexedPart


class FakeCarrierIds:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], IndexedPart] = {}
        self.lookups: list[set[tuple[str, str]]] = []

    def add(self, carrier: str, carrier_id: str, part: IndexedPart) -> None:
        """What recording an accepted submit writes (the id as the SMSC answered it)."""
        self.rows[(carrier, canonical_message_id(carrier_id, IdFormat.OPAQUE))] = part

    def lookup(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], IndexedPart]:
        self.lookups.append(set(keys))
        return {k: self.rows[k] for k in keys if k in self.rows}


class FakeInDoubt:
    """Claims in doubt by (carrier, handset); ``recover`` records the settled attempt once."""

    def __init__(self) -> None:
        self.doubts: dict[tuple[str, str], list[InDoubt]] = {}
        self.recovered: list[tuple[InDoubt, str]] = []
        self.refuse = False
        """Every claim changed since it was found (sent again meanwhile)."""

    def add(self, doubt: InDoubt) -> None:
        self.doubts.setdefault((doubt.carrier, doubt.ticket.handset), []).append(doubt)

    def in_doubt(
        self, handsets: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], list[InDoubt]]:
        return {k: list(self.doubts[k]) for k in handsets if self.doubts.get(k)}

    def recover(self, doubt: InDoubt, carrier_id: str, at: datetime) -> bool:
        waiting = self.doubts.get((doubt.carrier, doubt.ticket.handset), [])
        if self.refuse or doubt not in waiting:
            return False
        waiting.remove(doubt)
        self.recovered.append((doubt, carrier_id))
        return True


class FakeReceiptRecorder:
    def __init__(self) -> None:
        self.deliveries: list[tuple[str, list[DeliveryReport]]] = []
        self.replies: list[tuple[str, list[Reply]]] = []
        self.unmatched: dict[UUID, list[UnmatchedReceipt]] = {}

    @property
    def reports(self) -> list[DeliveryReport]:
        return [r for _, batch in self.deliveries for r in batch]

    def record_deliveries(self, route: str, reports: Sequence[DeliveryReport]) -> object:
        self.deliveries.append((route, list(reports)))
        return None

    def record_replies(self, route: str, replies: Sequence[Reply]) -> object:
        self.replies.append((route, list(replies)))
        return None

    def record_unmatched(self, batch_id: UUID, receipts: Sequence[UnmatchedReceipt]) -> bool:
        if batch_id in self.unmatched:
            return False
        self.unmatched[batch_id] = list(receipts)
        return True


class FakeReplyParts:
    """``adapters.postgres.reply_parts`` in memory: parts by identity, kept once, closed under
    their reply's id."""

    def __init__(self) -> None:
        self.parts: dict[str, ReplyPart] = {}
        self.closed: dict[str, UUID] = {}

    def keep(self, parts: Sequence[ReplyPart]) -> None:
        for part in parts:
            self.parts.setdefault(part.identity, part)

    def open_parts(self, groups: Collection[str]) -> list[ReplyPart]:
        return [p for p in self._open() if p.group in groups]

    def overdue(self, first_before: datetime) -> list[ReplyPart]:
        late = {p.group for p in self._open() if p.received_at < first_before}
        return self.open_parts(late)

    def close(self, reply_id: UUID, identities: Collection[str]) -> None:
        for identity in identities:
            self.closed.setdefault(identity, reply_id)

    def _open(self) -> list[ReplyPart]:
        return [p for i, p in self.parts.items() if i not in self.closed]
