"""Keyrings of several processes share one key store but cache keys on their own."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

from adapters.crypto.keyring import Keyring, MemoryKeyStore

MASTER = bytes(range(32))


def test_a_process_caching_an_erased_key_opens_data_sealed_under_its_fresh_key() -> None:
    store = MemoryKeyStore()
    api, carrier = Keyring(MASTER, store), Keyring(MASTER, store)
    person = uuid4()
    old = api.seal(person, b"+4915140000001", owner=uuid4())
    assert carrier.open(person, old) == b"+4915140000001"  # now cached by the carrier

    api.shred(person)  # the erasure
    new = api.seal(person, b"+4915140000001")  # a later send creates a fresh key

    assert carrier.open(person, new) == b"+4915140000001"
    assert carrier.open(person, old) is None
    assert api.open(person, old) is None


class CountingStore(MemoryKeyStore):
    """The key store, counting its round trips."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self.batch_loads = 0

    def load(self, key_id: UUID) -> bytes | None:
        self.loads += 1
        return super().load(key_id)

    def load_many(self, key_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        self.batch_loads += 1
        return super().load_many(key_ids)


def test_sealing_a_batch_whose_keys_left_the_cache_loads_them_in_one_round_trip() -> None:
    store, now = CountingStore(), [0.0]
    keyring = Keyring(MASTER, store, cache_seconds=30.0, clock=lambda: now[0])
    people = [uuid4() for _ in range(500)]
    keyring.create_keys(people, owner=uuid4())
    store.loads = store.batch_loads = 0
    now[0] = 31.0  # pricing a long list outlived the cache

    sealed = keyring.seal_many([(person, b"+49151%08d" % n) for n, person in enumerate(people)])

    assert (store.loads, store.batch_loads) == (0, 1)
    assert [keyring.open(p, ct) for p, ct in zip(people, sealed, strict=True)] == [
        b"+49151%08d" % n for n in range(500)
    ]
    assert store.loads == 0  # opening them used the keys just loaded


def test_sealing_a_batch_under_cached_keys_asks_the_store_nothing() -> None:
    store = CountingStore()
    keyring = Keyring(MASTER, store)
    people = [uuid4() for _ in range(10)]
    keyring.create_keys(people)
    store.loads = store.batch_loads = 0

    keyring.seal_many([(person, b"text") for person in people])

    assert (store.loads, store.batch_loads) == (0, 0)


def test_a_process_meeting_many_recipients_keeps_only_the_recent_keys() -> None:
    now = [0.0]
    keyring = Keyring(MASTER, MemoryKeyStore(), cache_seconds=30.0, clock=lambda: now[0])
    first = [uuid4() for _ in range(15_000)]
    keyring.create_keys(first)
    for round_ in range(1, 6):  # a long campaign: 15,000 new recipients every 31 seconds
        now[0] = 31.0 * round_
        keyring.create_keys([uuid4() for _ in range(15_000)])
    assert len(keyring._cache) <= 2 * 15_000
    sealed = keyring.seal(first[0], b"+4915140000001")  # an expired key is loaded again
    assert keyring.open(first[0], sealed) == b"+4915140000001"
