"""Data keys for personal data, wrapped by ``KONTOR_MASTER_KEY``; deleting one is the erasure.

Every account has a data key, and so does every recipient whose erasure must be possible on its
own (``key_id`` is the account id or the recipient's subject id). Keys are created on first use,
stored wrapped (AES-256-GCM under the master key, bound to their id), and cached unwrapped for a
short while. ``shred`` deletes a key: everything sealed under it becomes unreadable for good
(crypto-shredding); readers get ``None`` and show a redaction marker.

Lookups never decrypt: ``lookup_hash`` is an HMAC of the normalised value under a secret derived
per account from the master key, so equal numbers match within an account and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE = 12


class KeyStore(Protocol):
    def load(self, key_id: UUID) -> bytes | None: ...

    def insert(self, key_id: UUID, owner: UUID | None, wrapped: bytes) -> None:
        """Store a wrapped key unless one with this id exists (the first writer wins)."""
        ...

    def delete(self, key_id: UUID) -> bool: ...

    def delete_owned_by(self, owner: UUID) -> int: ...

    def load_many(self, key_ids: Sequence[UUID]) -> dict[UUID, bytes]: ...

    def insert_returning(
        self, keys: Sequence[tuple[UUID, UUID | None, bytes]]
    ) -> dict[UUID, bytes]:
        """``insert`` for many keys (the first writer of each id wins) that also returns the
        stored key of each id, in one round trip: the one given, or the one that was there
        first. An id another writer is storing at
        the same moment may be missing from the answer (``load_many`` finds it after)."""
        ...


class MemoryKeyStore:
    """Keys in a dict: for unit tests and tools that need no database."""

    def __init__(self) -> None:
        self._keys: dict[UUID, tuple[UUID | None, bytes]] = {}
        self._lock = threading.Lock()

    def load(self, key_id: UUID) -> bytes | None:
        entry = self._keys.get(key_id)
        return entry[1] if entry else None

    def insert(self, key_id: UUID, owner: UUID | None, wrapped: bytes) -> None:
        with self._lock:
            self._keys.setdefault(key_id, (owner, wrapped))

    def delete(self, key_id: UUID) -> bool:
        return self._keys.pop(key_id, None) is not None

    def delete_owned_by(self, owner: UUID) -> int:
        with self._lock:
            doomed = [k for k, (o, _) in self._keys.items() if owner in (o, k)]
            for key_id in doomed:
                del self._keys[key_id]
        return len(doomed)

    def load_many(self, key_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        return {k: self._keys[k][1] for k in key_ids if k in self._keys}

    def insert_returning(
        self, keys: Sequence[tuple[UUID, UUID | None, bytes]]
    ) -> dict[UUID, bytes]:
        for key_id, owner, wrapped in keys:
            self.insert(key_id, owner, wrapped)
        return self.load_many([k[0] for k in keys])


class InvalidMasterKeyError(ValueError):
    """KONTOR_MASTER_KEY must be 32 bytes, given as 64 hex digits."""


def parse_master_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise InvalidMasterKeyError("KONTOR_MASTER_KEY is not hex") from exc
    if len(key) != 32:
        raise InvalidMasterKeyError(f"KONTOR_MASTER_KEY has {len(key)} bytes, not 32")
    return key


SWEEP_FIRST = 10_000
"""Cached keys before the first sweep of expired ones."""


class Keyring:
    def __init__(
        self,
        master_key: bytes,
        store: KeyStore,
        *,
        cache_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._master = AESGCM(master_key)
        self._lookup_root = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"kontor lookup hashes"
        ).derive(master_key)
        self._store = store
        self._cache: dict[UUID, tuple[float, bytes]] = {}
        """Data keys in the clear by id, with when they expire. Raw keys, not ``AESGCM``
        objects: an object takes 2.6 KB where the key takes 32 bytes, and building one costs
        a microsecond. Expired keys are swept once the cache has doubled since the last
        sweep, so a process that meets a million recipients holds only those of the last
        ``cache_seconds`` (it held all of them: 2.7 GB in the expander, issue 16)."""
        self._sweep_at = SWEEP_FIRST
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()

    # -- data keys -------------------------------------------------------------------------

    def _remember(self, keys: dict[UUID, bytes], now: float) -> None:
        until = now + self._cache_seconds
        with self._lock:
            cache = self._cache
            for key_id, key in keys.items():
                cache[key_id] = (until, key)
            if len(cache) >= self._sweep_at:
                for key_id in [k for k, (expires, _) in cache.items() if expires <= now]:
                    del cache[key_id]
                self._sweep_at = max(SWEEP_FIRST, 2 * len(cache))

    def _data_key(self, key_id: UUID, owner: UUID | None, *, create: bool) -> AESGCM | None:
        now = self._clock()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return AESGCM(cached[1])
        wrapped = self._store.load(key_id)
        if wrapped is None:
            if not create:
                self._cache.pop(key_id, None)
                return None
            fresh = AESGCM.generate_key(bit_length=256)
            self._store.insert(key_id, owner, self._wrap(key_id, fresh))
            wrapped = self._store.load(key_id)
            if wrapped is None:  # pragma: no cover - shredded in the same instant
                raise KeyError(f"data key {key_id} vanished while being created")
        key = self._unwrap(key_id, wrapped)
        self._remember({key_id: key}, now)
        return AESGCM(key)

    def _wrap(self, key_id: UUID, key: bytes) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._master.encrypt(nonce, key, key_id.bytes)

    def _unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped[:NONCE], wrapped[NONCE:], key_id.bytes)

    def seal(self, key_id: UUID, plaintext: bytes, owner: UUID | None = None) -> bytes:
        key = self._data_key(key_id, owner, create=True)
        assert key is not None
        nonce = os.urandom(NONCE)
        return nonce + key.encrypt(nonce, plaintext, key_id.bytes)

    def seal_many(self, items: Sequence[tuple[UUID, bytes]]) -> list[bytes]:
        """``seal`` for a batch under many keys (a send's recipients, staged): keys cached by
        ``create_keys`` moments earlier are used as they are, and those the cache no longer
        holds (a long acceptance outlives ``cache_seconds``) are loaded in one round trip,
        not one each. Keys that do not exist yet are created as ``seal`` creates them."""
        self.prefetch([key_id for key_id, _ in items])
        seal = self.seal
        return [seal(key_id, plaintext) for key_id, plaintext in items]

    def sealer(self, key_id: UUID, owner: UUID | None = None) -> Callable[[bytes], bytes]:
        """``seal`` for many values under one key (bulk imports): the same format, with the
        key looked up once and random nonces drawn in blocks."""
        key = self._data_key(key_id, owner, create=True)
        assert key is not None
        encrypt, aad = key.encrypt, key_id.bytes
        block = 4096
        nonces: list[bytes] = []

        def seal(plaintext: bytes) -> bytes:
            if not nonces:
                pool = os.urandom(NONCE * block)
                nonces.extend(pool[i : i + NONCE] for i in range(0, len(pool), NONCE))
            nonce = nonces.pop()
            return nonce + encrypt(nonce, plaintext, aad)

        return seal

    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        """The plaintext, or ``None`` when the data is shredded.

        Shredded also covers a ciphertext that the current key of this id cannot open: a
        deterministic key id (a recipient's, an account's) gets a fresh key when it is used again
        after an erasure, and data sealed under the erased key must stay unreadable, not fail.
        The other way round, this process may still cache the erased key while another one
        already sealed new data under the fresh key: so a cached key that fails is dropped and
        the store asked once more before the data counts as shredded.
        """
        for cached_key_may_be_stale in (True, False):
            key = self._data_key(key_id, None, create=False)
            if key is None:
                return None
            try:
                return key.decrypt(ciphertext[:NONCE], ciphertext[NONCE:], key_id.bytes)
            except InvalidTag:
                if cached_key_may_be_stale:
                    self.forget_cached(key_id)
        return None

    def create_key(self, key_id: UUID, owner: UUID | None = None) -> None:
        """Make sure a data key exists (recipient keys name their account as owner)."""
        self._data_key(key_id, owner, create=True)

    def prefetch(self, key_ids: list[UUID]) -> None:
        """Load many keys in one round trip (a batch of messages to decrypt)."""
        now = self._clock()
        wanted = [k for k in dict.fromkeys(key_ids) if not self._fresh(k, now)]
        if not wanted:
            return
        loaded = self._store.load_many(wanted)
        self._remember({k: self._unwrap(k, wrapped) for k, wrapped in loaded.items()}, now)

    def _fresh(self, key_id: UUID, now: float) -> bool:
        cached = self._cache.get(key_id)
        return cached is not None and cached[0] > now

    def create_keys(self, key_ids: Iterable[UUID], owner: UUID | None = None) -> None:
        """``create_key`` for a batch (a send's recipients): one query stores a new key for
        each id that has none and answers the stored key of every id (a key stored at the same
        moment by another process is read after); all end up cached, so sealing the batch
        afterwards costs no further query."""
        now = self._clock()
        wanted = [
            k for k in dict.fromkeys(key_ids) if (c := self._cache.get(k)) is None or c[0] <= now
        ]
        if not wanted:
            return
        fresh = {k: AESGCM.generate_key(bit_length=256) for k in wanted}
        offered = {k: self._wrap(k, key) for k, key in fresh.items()}
        found = self._store.insert_returning([(k, owner, offered[k]) for k in wanted])
        if racing := [k for k in wanted if k not in found]:
            found.update(self._store.load_many(racing))
        # A key this call stored comes back as offered (its wrapping has a random nonce): it
        # is used as generated; only keys that were there before are unwrapped.
        unwrapped = {
            k: fresh[k] if wrapped == offered[k] else self._unwrap(k, wrapped)
            for k, wrapped in found.items()
        }
        self._remember(unwrapped, now)

    def shred(self, key_id: UUID) -> bool:
        """Delete a data key: what it sealed is unreadable from now on."""
        with self._lock:
            self._cache.pop(key_id, None)
        return self._store.delete(key_id)

    def shred_account(self, account_id: UUID) -> int:
        """Delete an account's key and every recipient key it owns."""
        with self._lock:
            self._cache.clear()
        return self._store.delete_owned_by(account_id)

    def forget_cached(self, key_id: UUID | None = None) -> None:
        with self._lock:
            if key_id is None:
                self._cache.clear()
            else:
                self._cache.pop(key_id, None)

    # -- lookup hashes ---------------------------------------------------------------------

    def lookup_secret(self, account_id: UUID) -> bytes:
        return hmac.new(self._lookup_root, account_id.bytes, hashlib.sha256).digest()

    def lookup_hash(self, account_id: UUID, value: str) -> str:
        """HMAC-SHA256 of a normalised value under the account's lookup secret (hex)."""
        secret = self.lookup_secret(account_id)
        return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()

    def lookup_hasher(self, account_id: UUID) -> Callable[[str], bytes]:
        """``lookup_hash`` for many values (bulk imports), as raw bytes (``.hex()`` of them is
        ``lookup_hash``): HMAC-SHA256 with the padded key states computed once."""
        secret = self.lookup_secret(account_id).ljust(64, b"\0")
        inner = hashlib.sha256(bytes(b ^ 0x36 for b in secret))
        outer = hashlib.sha256(bytes(b ^ 0x5C for b in secret))

        def digest(value: str) -> bytes:
            step = inner.copy()
            step.update(value.encode())
            final = outer.copy()
            final.update(step.digest())
            return final.digest()

        return digest
