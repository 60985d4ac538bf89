"""Deterministic ids shared by the contexts: the same inputs always give the same id, so a
retried request or a redelivered worker message meets the record it already made."""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha1
from uuid import UUID, uuid5

SEND_NAMESPACE = UUID("2f7b3c1e-6a0d-4d9b-9c7e-1a2b3c4d5e61")
MESSAGE_NAMESPACE = UUID("4c1c0f55-2b8e-4a55-9a9e-6d1c8b0e7e21")


def send_id_for(account_id: UUID, idempotency_key: str) -> UUID:
    """A send's id from the client's Idempotency-Key (scoped to the account)."""
    return uuid5(SEND_NAMESPACE, f"{account_id}:{idempotency_key}")


def message_id(send_id: UUID, index: int) -> UUID:
    """The id of recipient ``index`` of a send."""
    return uuid5(MESSAGE_NAMESPACE, f"{send_id}:{index}")


def message_ids(send_id: UUID, count: int, start: int = 0) -> list[UUID]:
    """``message_id`` of recipients start .. start + count - 1 (a campaign's, at acceptance)."""
    prefix = f"{send_id}:"
    names = (f"{prefix}{index}" for index in range(start, start + count))
    return uuid5_many(MESSAGE_NAMESPACE, names)


_V5_CLEAR = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_V5_SET = (0x8000 << 48) | (5 << 76)


def uuid5_many(namespace: UUID, names: Iterable[str]) -> list[UUID]:
    """``uuid5(namespace, name)`` for each name: the same ids (RFC 4122 version 5), in half
    the time of the standard library's per-call checks, for a send's 100,000 recipients."""
    prefix = namespace.bytes
    return [
        # SHA-1 because RFC 4122 version 5 is defined on it (an id, not a secret).
        UUID(int=(int.from_bytes(sha1(prefix + name.encode()).digest()[:16]) & _V5_CLEAR) | _V5_SET)  # noqa: S324
        for name in names
    ]
