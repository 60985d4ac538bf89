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
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

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

    def existing(self, key_ids: list[UUID]) -> set[UUID]: ...

    def load_many(self, key_ids: list[UUID]) -> dict[UUID, bytes]: ...

    def insert_many(self, rows: list[tuple[UUID, UUID | None, bytes]]) -> None: ...

    def delete_owned_by(self, owner: UUID) -> int: ...


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

    def existing(self, key_ids: list[UUID]) -> set[UUID]:
        return {k for k in key_ids if k in self._keys}

    def load_many(self, key_ids: list[UUID]) -> dict[UUID, bytes]:
        return {k: self._keys[k][1] for k in key_ids if k in self._keys}

    def insert_many(self, rows: list[tuple[UUID, UUID | None, bytes]]) -> None:
        for key_id, owner, wrapped in rows:
            self.insert(key_id, owner, wrapped)

    def delete_owned_by(self, owner: UUID) -> int:
        with self._lock:
            doomed = [k for k, (o, _) in self._keys.items() if owner in (o, k)]
            for key_id in doomed:
                del self._keys[key_id]
        return len(doomed)


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
        self._cache: dict[UUID, tuple[float, AESGCM]] = {}
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()

    # -- data keys -------------------------------------------------------------------------

    def _data_key(self, key_id: UUID, owner: UUID | None, *, create: bool) -> AESGCM | None:
        now = self._clock()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
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
        key = AESGCM(self._unwrap(key_id, wrapped))
        with self._lock:
            self._cache[key_id] = (now + self._cache_seconds, key)
        return key

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

    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        key = self._data_key(key_id, None, create=False)
        if key is None:
            return None
        return key.decrypt(ciphertext[:NONCE], ciphertext[NONCE:], key_id.bytes)

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
        with self._lock:
            for key_id, wrapped in loaded.items():
                self._cache[key_id] = (
                    now + self._cache_seconds,
                    AESGCM(self._unwrap(key_id, wrapped)),
                )

    def _fresh(self, key_id: UUID, now: float) -> bool:
        cached = self._cache.get(key_id)
        return cached is not None and cached[0] > now

    def ensure_keys(self, key_ids: list[UUID], owner: UUID | None) -> int:
        """Create every missing key of ``key_ids`` in one round trip (a campaign's recipients);
        returns how many were created."""
        wanted = list(dict.fromkeys(key_ids))
        present = self._store.existing(wanted)
        missing = [k for k in wanted if k not in present]
        if missing:
            self._store.insert_many(
                [(k, owner, self._wrap(k, AESGCM.generate_key(bit_length=256))) for k in missing]
            )
        return len(missing)

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
