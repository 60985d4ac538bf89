"""Personal data inside events: a value and the id of the data key that protects it.

Events are immutable, so phone numbers, names and message texts never enter the event store in
plain text. Domain code puts them in events as ``PersonalData(key_id, value)``; the event mapper
(adapters/postgres/eventstore.py) stores ``value`` encrypted under the data key ``key_id`` (an
account's or a single recipient's) and decrypts on the way back. Deleting the key is the erasure:
the value then comes back as ``None`` and ``redacted`` is true. Lookups never use the value: they
use a keyed hash that is computed at the edge and stored beside it.

Deliberately not a dataclass: the mapper's encoder must see it as a foreign type to encrypt it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid5

from domain.ids import uuid5_many

REDACTED = "[redacted]"


class PersonalData:
    __slots__ = ("key_id", "value")

    def __init__(self, key_id: UUID, value: str | None) -> None:
        object.__setattr__(self, "key_id", key_id)
        object.__setattr__(self, "value", value)

    key_id: UUID
    value: str | None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("PersonalData is immutable")

    @property
    def redacted(self) -> bool:
        return self.value is None

    def shown(self) -> str:
        """The value, or the redaction marker once the key has been shredded."""
        return REDACTED if self.value is None else self.value

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PersonalData)
            and other.key_id == self.key_id
            and other.value == self.value
        )

    def __hash__(self) -> int:
        return hash((self.key_id, self.value))

    def __repr__(self) -> str:
        # Never print the value: reprs end up in logs and tracebacks.
        state = "redacted" if self.value is None else "***"
        return f"PersonalData(key_id={self.key_id}, value={state})"


class SealedPersonalData(PersonalData):
    """Personal data handed on still sealed: ``ciphertext`` is ``value`` as ``Keyring.seal``
    sealed it under ``key_id``, and the event mapper stores it as it is.

    The expander moves a campaign's staged messages into events this way: staging and events
    seal alike, so opening each number and text only to seal it again would cost four AES
    operations and a key load per message for nothing. The value is not known here; asking for
    it is a programming error (a redacted marker would be a lie). If the key was shredded
    meanwhile, the event carries data nobody can open: the carrier sender then never sends it,
    and a reader sees it redacted, as with any erased person's data.
    """

    __slots__ = ("ciphertext",)

    def __init__(self, key_id: UUID, ciphertext: bytes) -> None:
        super().__init__(key_id, None)
        object.__setattr__(self, "ciphertext", ciphertext)

    ciphertext: bytes

    @property
    def redacted(self) -> bool:
        raise TypeError("sealed personal data: its value is not known here")

    def shown(self) -> str:
        raise TypeError("sealed personal data: its value is not known here")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SealedPersonalData)
            and other.key_id == self.key_id
            and other.ciphertext == self.ciphertext
        )

    def __hash__(self) -> int:
        return hash((self.key_id, self.ciphertext))

    def __repr__(self) -> str:
        return f"SealedPersonalData(key_id={self.key_id})"


RECIPIENT_KEY_NAMESPACE = UUID("9d7c1f2e-4b6a-5c3d-8e1f-2a3b4c5d6e7f")


def recipient_key_id(account_id: UUID, number_hash: str) -> UUID:
    """The id of the data key that protects one person's data within one account.

    ``number_hash`` is the keyed hash of the person's E.164 number (``Keyring.lookup_hash``,
    hex). Contacts and the send pipeline derive the same id, so erasing a person (shredding this
    key) redacts their message numbers and texts in every event that used it. The key is created
    with the account as owner, so deleting the account's keys removes it as well.
    """
    return uuid5(RECIPIENT_KEY_NAMESPACE, f"{account_id}:{number_hash}")


def recipient_key_ids(account_id: UUID, number_hashes: Sequence[str]) -> list[UUID]:
    """``recipient_key_id`` of many people of one account (a send's recipients)."""
    prefix = f"{account_id}:"
    return uuid5_many(RECIPIENT_KEY_NAMESPACE, (prefix + h for h in number_hashes))
