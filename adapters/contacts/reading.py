"""Reading a whole list: for the campaign expander (``iter_recipients``) and exports.

Recipients come in batches, in ascending id (a stable order: ids never change and new
recipients get higher ones; the rows of one import get theirs in keyed-hash order, which halves
the import's index work), each batch from its own short query, so a million-row list is never
held in memory or in one long transaction. Rows whose data can no longer be opened (the
account's key was shredded) are skipped: without a number there is nobody to send to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.contacts import lists, recipients
from adapters.contacts.sealing import AccountSeal
from adapters.crypto.keyring import Keyring


@dataclass(frozen=True, slots=True)
class ListRecipient:
    """One recipient as the send pipeline needs it."""

    id: int
    """Stable within the list (a message id can derive from list, campaign and this)."""
    e164: str
    number_hash: str
    """``Keyring.lookup_hash(account_id, e164)`` (hex): for ``suppressed_hashes`` and
    ``domain.personal.recipient_key_id``."""
    fields: dict[str, str]
    """Personalisation fields by canonical name (``vorname``, ``nachname``, ``anrede``, ...)."""
    opted_out: bool
    """On the account's opt-out list when the batch was read (check again before sending)."""


def iter_recipients(
    pool: ConnectionPool[Any],
    keyring: Keyring,
    account_id: UUID,
    list_id: UUID,
    *,
    batch_size: int = 1000,
    after: int = 0,
) -> Iterator[list[ListRecipient]]:
    """The account's list in batches of up to ``batch_size`` recipients, ascending by id,
    starting after recipient id ``after`` (to resume). Raises ``ListNotFoundError`` for a list
    that is not the account's."""
    seal = AccountSeal(keyring, account_id)
    with pool.connection() as conn:
        lists.get_list(conn, account_id, list_id)
    while True:
        with pool.connection() as conn:
            page = recipients.page(conn, seal, list_id, after=after, limit=batch_size)
        if not page:
            return
        after = page[-1].id
        batch = [
            ListRecipient(r.id, r.e164, r.number_hash.hex(), r.fields, r.opted_out)
            for r in page
            if r.e164 is not None
        ]
        if batch:
            yield batch
        if len(page) < batch_size:
            return


def list_size(pool: ConnectionPool[Any], account_id: UUID, list_id: UUID) -> int:
    """Recipients in the account's list; ``ListNotFoundError`` if it is not the account's,
    ``ListImportingError`` while it is being imported (a campaign waits for the whole list)."""
    with pool.connection() as conn:
        found = lists.get_list(conn, account_id, list_id)
    found.ensure_not_importing()
    return found.recipients
