"""Deterministic ids shared by the contexts: the same inputs always give the same id, so a
retried request or a redelivered worker message meets the record it already made."""

from __future__ import annotations

from uuid import UUID, uuid5

SEND_NAMESPACE = UUID("2f7b3c1e-6a0d-4d9b-9c7e-1a2b3c4d5e61")
MESSAGE_NAMESPACE = UUID("4c1c0f55-2b8e-4a55-9a9e-6d1c8b0e7e21")


def send_id_for(account_id: UUID, idempotency_key: str) -> UUID:
    """A send's id from the client's Idempotency-Key (scoped to the account)."""
    return uuid5(SEND_NAMESPACE, f"{account_id}:{idempotency_key}")


def message_id(send_id: UUID, index: int) -> UUID:
    """The id of recipient ``index`` of a send."""
    return uuid5(MESSAGE_NAMESPACE, f"{send_id}:{index}")
