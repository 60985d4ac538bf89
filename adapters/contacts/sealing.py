"""Sealing a recipient's number and fields under the account's data key, and hashing numbers.

A recipient row holds one ciphertext: msgspec JSON ``{"n": e164, "f": {field: value}}`` sealed
with AES-GCM under the account's data key (``Keyring.seal(account_id, ...)``). Deleting that
key (``Keyring.shred_account``) makes every row of the account unreadable: ``open`` then
returns ``None`` and readers show a redaction marker.

``number_hash`` is ``Keyring.lookup_hash(account_id, e164)`` as 32 raw bytes (the tables store
bytes; ``hex()`` of them is exactly ``lookup_hash``). The account's lookup secret and data key
are taken once per ``AccountSeal``, so a number costs one HMAC and one AES-GCM seal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import msgspec

from adapters.crypto.keyring import Keyring


class Sealed(msgspec.Struct, array_like=True):
    n: str
    f: dict[str, str] = {}


@dataclass(frozen=True, slots=True)
class Opened:
    """A recipient's data as decrypted: ``e164`` and ``fields``, or redacted (key shredded)."""

    e164: str | None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def redacted(self) -> bool:
        return self.e164 is None


REDACTED = Opened(None)
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Sealed).decode


class AccountSeal:
    """Seals, opens and hashes for one account (one instance per request or import: it holds
    the account's data key for its lifetime)."""

    def __init__(self, keyring: Keyring, account_id: UUID) -> None:
        self.keyring = keyring
        self.account_id = account_id
        self.number_hash: Callable[[str], bytes] = keyring.lookup_hasher(account_id)
        self._sealer: Callable[[bytes], bytes] | None = None

    def seal_bytes(self, plaintext: bytes) -> bytes:
        if self._sealer is None:
            self._sealer = self.keyring.sealer(self.account_id)
        return self._sealer(plaintext)

    def seal(self, e164: str, fields: dict[str, str]) -> bytes:
        return self.seal_bytes(plaintext(e164, fields))

    def sealer(self) -> Callable[[bytes], bytes]:
        """``seal_bytes`` as a plain function, for hot loops."""
        if self._sealer is None:
            self._sealer = self.keyring.sealer(self.account_id)
        return self._sealer

    def open_bytes(self, ciphertext: bytes) -> bytes | None:
        return self.keyring.open(self.account_id, bytes(ciphertext))

    def open(self, ciphertext: bytes) -> Opened:
        plaintext = self.open_bytes(ciphertext)
        if plaintext is None:
            return REDACTED
        sealed = _decode(plaintext)
        return Opened(sealed.n, sealed.f)


def plaintext(e164: str, fields: dict[str, str]) -> bytes:
    """What a recipient row seals: its number and fields, encoded."""
    return _encode(Sealed(e164, fields))


def hash_hex(number_hash: bytes) -> str:
    return number_hash.hex()
