"""Reassembling concatenated replies (MO) durably.

The parts of a handset's long reply may come in any order, over different binds, and some
never. Each part is kept (``ReplyParts``: in PostgreSQL, its body and number sealed under the
handset's key) before its NATS message is answered, so a restart loses none; a part offered
again is the same part (its identity is its bytes, sender and arrival) and is kept once. A
message is whole when a part of every position 1..total is kept: its reply is recorded from
the joined bodies, and its parts are closed under the reply's id. A message still missing
parts when its first part is older than the timeout (default 10 minutes) is recorded as what
arrived, marked incomplete, the gaps shown as ``[…]``.

The parts of one message are those of one handset to one address with one reference and
total that are not closed yet. A reply's id derives from the identities of its parts, so a
crash between recording it and closing its parts records the same reply again, which the
read side and the correlation take once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid5

from adapters.crypto.inbound_keys import INBOUND_NAMESPACE
from adapters.smpp.mo import decode_mo
from adapters.smpp.udh import PartInfo
from domain.messaging.records import Handset, Reply, ReplyPart
from domain.personal import PersonalData

PART_TIMEOUT = timedelta(minutes=10)
GAP = "[…]"


class ReplyParts(Protocol):
    """Where parts wait for the rest of their message
    (``adapters.postgres.reply_parts.PostgresReplyParts``)."""

    def keep(self, parts: Sequence[ReplyPart]) -> None:
        """Store the parts; a part whose identity is stored already is left as it is."""
        ...

    def open_parts(self, groups: Collection[str]) -> list[ReplyPart]:
        """The parts of these groups that no reply has closed yet."""
        ...

    def overdue(self, first_before: datetime) -> list[ReplyPart]:
        """The open parts of every group whose first open part arrived before the time."""
        ...

    def close(self, reply_id: UUID, identities: Collection[str]) -> None:
        """Mark the parts as recorded in the reply."""
        ...


def reply_part(
    route: str,
    handset: Handset,
    recipient: str,
    data_coding: int,
    concatenation: PartInfo,
    body: bytes,
    identity: str,
    at: datetime,
) -> ReplyPart:
    group = hashlib.sha256(
        f"{handset.number_hash}|{recipient}|{concatenation.reference}|{concatenation.total}".encode()
    ).hexdigest()
    return ReplyPart(
        identity=identity,
        group=group,
        sequence=concatenation.part,
        total=concatenation.total,
        route=route,
        handset=handset,
        recipient=recipient,
        data_coding=data_coding,
        body=body,
        received_at=at,
    )


def by_group(parts: Iterable[ReplyPart]) -> dict[str, list[ReplyPart]]:
    """The parts per group, in order of arrival."""
    groups: dict[str, list[ReplyPart]] = defaultdict(list)
    for part in sorted(parts, key=lambda p: (p.received_at, p.identity)):
        groups[part.group].append(part)
    return dict(groups)


def chosen(parts: Iterable[ReplyPart]) -> list[ReplyPart]:
    """The first arrival of each position, in position order (a carrier that sends a part
    again sends the same text)."""
    first: dict[int, ReplyPart] = {}
    for part in parts:
        first.setdefault(part.sequence, part)
    return [first[sequence] for sequence in sorted(first)]


def is_whole(parts: Sequence[ReplyPart]) -> bool:
    return bool(parts) and [p.sequence for p in parts] == list(range(1, parts[0].total + 1))


def _text(parts: Sequence[ReplyPart]) -> str:
    """The joined bodies' text; a gap between (or before, or after) the parts as ``GAP``."""
    runs: list[str] = []
    run: list[bytes] = []
    expected = 1
    for part in parts:
        if part.sequence != expected:
            if run:
                runs.append(decode_mo(parts[0].data_coding, b"".join(run)))
                run = []
            runs.append(GAP)
        run.append(part.body)
        expected = part.sequence + 1
    if run:
        runs.append(decode_mo(parts[0].data_coding, b"".join(run)))
    if expected <= parts[0].total:
        runs.append(GAP)
    return "".join(runs)


def joined_reply(parts: Sequence[ReplyPart]) -> Reply:
    """The reply of a message's parts (in position order); incomplete unless whole."""
    first = parts[0]
    identity = ",".join(sorted(p.identity for p in parts))
    return Reply(
        reply_id=uuid5(INBOUND_NAMESPACE, "parts:" + identity),
        route=first.route,
        sender_hash=first.handset.number_hash,
        sender=PersonalData(first.handset.key_id, first.handset.number),
        recipient=first.recipient,
        text=PersonalData(first.handset.key_id, _text(parts)),
        received_at=max(p.received_at for p in parts),
        incomplete=not is_whole(parts),
        parts=len(parts),
    )


class Reassembly:
    """Keeps parts and says which replies they complete."""

    def __init__(self, store: ReplyParts, timeout: timedelta = PART_TIMEOUT) -> None:
        self.store = store
        self.timeout = timeout

    def add(self, parts: Sequence[ReplyPart]) -> list[tuple[Reply, list[str]]]:
        """Keep the parts; the replies they complete, each with its parts' identities (to be
        closed once the reply is recorded)."""
        if not parts:
            return []
        self.store.keep(parts)
        groups = by_group(self.store.open_parts({p.group for p in parts}))
        return [_closing(group) for group in groups.values() if is_whole(chosen(group))]

    def overdue(self, now: datetime) -> list[tuple[Reply, list[str]]]:
        """The replies of messages whose first part waited longer than the timeout."""
        groups = by_group(self.store.overdue(now - self.timeout))
        return [_closing(group) for group in groups.values()]

    def close(self, done: Sequence[tuple[Reply, list[str]]]) -> None:
        for reply, identities in done:
            self.store.close(reply.reply_id, identities)


def _closing(group: list[ReplyPart]) -> tuple[Reply, list[str]]:
    """The reply of a group's parts, and every part it closes (a position's copies too)."""
    return joined_reply(chosen(group)), [p.identity for p in group]
