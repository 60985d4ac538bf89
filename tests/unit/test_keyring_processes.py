"""Keyrings of several processes share one key store but cache keys on their own."""

from __future__ import annotations

from uuid import uuid4

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
