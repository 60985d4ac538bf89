"""Per-recipient data keys: what the send pipeline seals message numbers and texts under.

A message's number and text go into its events as ``PersonalData(key_id, value)`` with
``key_id = domain.personal.recipient_key_id(account_id, number_hash)``, where ``number_hash``
is ``Keyring.lookup_hash(account_id, e164)`` (the value ``ListRecipient.number_hash`` already
carries). The key must exist *with the account as owner* before the events are saved:
``recipient_keys`` creates a batch of them in three queries and leaves them cached, so the
event mapper seals the batch without further queries. The owner matters: the mapper alone
would create a missing key without one, and ``Keyring.shred_account`` would then miss it.

Erasing the person (``POST /v1/privacy/erasures``) shreds the key, so every event sealed under
it reads back redacted; the keyed hash and the ledger's ids and amounts stay.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from adapters.crypto.keyring import Keyring
from domain.personal import recipient_key_id


def recipient_keys(
    keyring: Keyring, account_id: UUID, number_hashes: Iterable[str]
) -> dict[str, UUID]:
    """Make sure each recipient's data key exists (owned by the account); hash -> key id."""
    ids = {number_hash: recipient_key_id(account_id, number_hash) for number_hash in number_hashes}
    keyring.create_keys(ids.values(), owner=account_id)
    return ids
