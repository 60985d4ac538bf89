"""The parts of concatenated replies in PostgreSQL (adapters.postgres.reply_parts): kept once,
sealed under the handset's key, found per message and when overdue, closed under their reply,
forgotten after a while, and gone with the person who sent them."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.keys import PostgresKeyStore
from adapters.postgres.reply_parts import KEEP_CLOSED, PostgresReplyParts
from domain.messaging.records import Handset, ReplyPart
from services.reply_parts import Reassembly

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def part(handset: Handset, group: str, sequence: int, body: bytes, at: datetime) -> ReplyPart:
    identity = hashlib.sha256(group.encode() + body + at.isoformat().encode()).hexdigest()
    return ReplyPart(identity=identity, group=group, sequence=sequence, total=2, route="sim-1",
                     handset=handset, recipient="Kontor", data_coding=0, body=body,
                     received_at=at)  # fmt: skip


def test_parts_are_kept_sealed_once_found_closed_and_forgotten(database_url: str) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=2) as pool:
        keys = Keyring(os.urandom(32), PostgresKeyStore(pool))
        store = PostgresReplyParts(pool, keys)
        store.setup()
        handset = Handset("+4915112345678", uuid4().hex, uuid4())
        keys.create_key(handset.key_id)
        group = uuid4().hex
        first = part(handset, group, 1, b"Hallo ", T0)
        store.keep([first])
        store.keep([first])
        assert store.open_parts({group}) == [first]
        with pool.connection() as conn:
            (body,) = conn.execute(
                "SELECT body FROM inbound_reply_parts WHERE identity = %s", (first.identity,)
            ).fetchone() or (None,)
        assert body is not None
        assert b"Hallo" not in bytes(body)
        reassembly = Reassembly(store, timeout=timedelta(minutes=10))
        assert reassembly.overdue(T0 + timedelta(minutes=5)) == []
        ((reply, identities),) = reassembly.add([part(handset, group, 2, b"Welt", T0)])
        assert reply.text.value == "Hallo Welt"
        reassembly.close([(reply, identities)])
        assert store.open_parts({group}) == []
        assert store.forget_closed(datetime.now(UTC)) == 0
        assert store.forget_closed(datetime.now(UTC) + KEEP_CLOSED + timedelta(hours=1)) >= 2


def test_an_overdue_message_and_an_erased_handsets_parts(database_url: str) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=2) as pool:
        keys = Keyring(os.urandom(32), PostgresKeyStore(pool))
        store = PostgresReplyParts(pool, keys)
        store.setup()
        kept, erased = (Handset(f"+49151000{n}", uuid4().hex, uuid4()) for n in range(2))
        for handset in (kept, erased):
            keys.create_key(handset.key_id)
        early, gone = uuid4().hex, uuid4().hex
        store.keep([part(kept, early, 2, b"zwei", T0), part(erased, gone, 1, b"eins", T0)])
        keys.shred(erased.key_id)
        groups = {p.group for p in store.overdue(T0 + timedelta(seconds=1))}
        assert early in groups
        assert gone not in groups
        with pool.connection() as conn:
            left = conn.execute(
                "SELECT count(*) FROM inbound_reply_parts WHERE grp = %s", (gone,)
            ).fetchone()
        assert left == (0,)
