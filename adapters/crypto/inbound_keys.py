"""Data keys for what carriers send us before we know whose it is (receipts, replies)."""

from __future__ import annotations

import functools
from uuid import UUID, uuid5

INBOUND_NAMESPACE = UUID("3b2a1c0d-9e8f-4a7b-b6c5-d4e3f2a1b0c9")


@functools.cache
def inbound_key_id(route: str) -> UUID:
    """The key that seals raw deliver_sm PDUs of a route while they wait in JetStream."""
    return uuid5(INBOUND_NAMESPACE, f"inbound:{route}")


def reply_key_id(sender_hash: str) -> UUID:
    """The key of one replying person (by the platform-wide hash of their number)."""
    return uuid5(INBOUND_NAMESPACE, f"reply:{sender_hash}")


PLATFORM_LOOKUP = UUID(int=0)
"""The "account" whose lookup secret hashes numbers that are not yet tied to an account."""
