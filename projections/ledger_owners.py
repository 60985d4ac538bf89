"""Which account a wallet or reservation belongs to, as the ledger projections learn it.

Posting an event needs its account and billing type (``domain.ledger.postings.Owners``); only
``Opened`` events carry them. This keeps the map in a table (so a restarted projection still
knows) and in memory (so a batch of captures costs no lookups).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from adapters.postgres.schema import ensure_schema
from domain.ledger.billing import Billing
from domain.ledger.postings import Owner, Owners
from domain.ledger.reservation import Reservation
from domain.ledger.wallet import Wallet

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_owners (
    aggregate_id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    billing text NOT NULL
)
"""


class OwnerMap:
    def __init__(self) -> None:
        self.owners: Owners = {}

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        ensure_schema(conn, SCHEMA)

    def prepare(self, conn: psycopg.Connection[Any], events: list[Any]) -> Owners:
        """Load the owners of a batch's aggregates; record those the batch opens or changes."""
        missing = {e.originator_id for e in events if e.originator_id not in self.owners}
        if missing:
            rows = conn.execute(
                "SELECT aggregate_id, account_id, billing FROM ledger_owners"
                " WHERE aggregate_id = ANY(%b)",
                (list(missing),),
            ).fetchall()
            for aggregate_id, account_id, billing in rows:
                self.owners[aggregate_id] = Owner(account_id, Billing(billing))
        for event in events:
            if isinstance(event, (Wallet.Opened, Reservation.Opened)):
                self._store(conn, event.originator_id, Owner(event.account_id, event.billing))
            elif isinstance(event, Wallet.BillingChanged):
                owner = self.owners.get(event.originator_id)
                if owner is not None:
                    self._store(conn, event.originator_id, Owner(owner.account_id, event.billing))
        return self.owners

    def _store(self, conn: psycopg.Connection[Any], aggregate_id: UUID, owner: Owner) -> None:
        conn.execute(
            "INSERT INTO ledger_owners VALUES (%s, %s, %s) ON CONFLICT (aggregate_id)"
            " DO UPDATE SET billing = EXCLUDED.billing",
            (aggregate_id, owner.account_id, owner.billing.value),
        )
