"""Data keys in PostgreSQL: one round trip stores the missing keys of a batch and answers the
stored key of every id, and processes racing for the same new keys end up with the same ones."""

from __future__ import annotations

import threading
from uuid import uuid4

from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.keys import PostgresKeyStore

MASTER = bytes(range(32))


def test_insert_returning_keeps_the_first_key_and_answers_every_id(database_url: str) -> None:
    with ConnectionPool(database_url, min_size=1, max_size=2) as pool:
        store = PostgresKeyStore(pool)
        owner, old, new = uuid4(), uuid4(), uuid4()
        store.insert(old, owner, b"first")
        found = store.insert_returning([(old, owner, b"second"), (new, owner, b"fresh")])
        assert found == {old: b"first", new: b"fresh"}
        assert store.load(old) == b"first"


def test_processes_creating_the_same_new_keys_at_once_agree_on_them(database_url: str) -> None:
    with ConnectionPool(database_url, min_size=2, max_size=8) as pool:
        store = PostgresKeyStore(pool)
        keyrings = [Keyring(MASTER, store) for _ in range(4)]
        key_ids = [uuid4() for _ in range(300)]
        start = threading.Barrier(len(keyrings))
        sealed: dict[int, list[bytes]] = {}

        def create(n: int) -> None:
            start.wait()
            keyrings[n].create_keys(key_ids)
            sealed[n] = [keyrings[n].seal(k, b"+4915140000%03d" % i) for i, k in enumerate(key_ids)]

        threads = [threading.Thread(target=create, args=(n,)) for n in range(len(keyrings))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        reader = Keyring(MASTER, store)
        for n in range(len(keyrings)):
            opened = [reader.open(k, blob) for k, blob in zip(key_ids, sealed[n], strict=True)]
            assert opened == [b"+4915140000%03d" % i for i in range(len(key_ids))]
