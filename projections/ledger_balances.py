"""Balances per account, credit lots (for "expiring within 30 days"), and open reservations
(for the expiry sweeper), all from the ledger's events.

Figures (1/10,000 EUR): ``credited`` (purchases net, trial, goodwill, positive corrections) minus
``debited`` (refunds paid out, negative corrections) equals ``available + held + spent +
expired``; ``spent`` is what carriers accepted plus fees charged from expired credit;
``receivable`` is postpaid usage not yet billed. CHECK constraints keep prepaid figures from
going negative.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

import psycopg

from adapters.postgres.schema import ensure_schema
from domain.ledger.postings import Owners, leg_figures, postings_for
from domain.ledger.reservation import Reservation
from domain.ledger.wallet import Wallet
from projections.ledger_owners import OwnerMap

SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger_balances (
    customer uuid PRIMARY KEY,
    credited bigint NOT NULL DEFAULT 0,
    debited bigint NOT NULL DEFAULT 0,
    available bigint NOT NULL DEFAULT 0 CHECK (available >= 0),
    held bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
    spent bigint NOT NULL DEFAULT 0,
    expired bigint NOT NULL DEFAULT 0 CHECK (expired >= 0),
    receivable bigint NOT NULL DEFAULT 0,
    CHECK (credited - debited = available + held + spent + expired - receivable)
);
CREATE TABLE IF NOT EXISTS ledger_lots (
    lot_id uuid PRIMARY KEY,
    customer uuid NOT NULL,
    source text NOT NULL,
    amount bigint NOT NULL CHECK (amount > 0),
    remaining bigint NOT NULL CHECK (remaining >= 0),
    acquired_at timestamptz NOT NULL,
    expires_at timestamptz
);
CREATE INDEX IF NOT EXISTS ledger_lots_expiry ON ledger_lots (expires_at) WHERE remaining > 0;
CREATE INDEX IF NOT EXISTS ledger_lots_customer ON ledger_lots (customer);
CREATE TABLE IF NOT EXISTS ledger_reservations (
    reservation_id uuid PRIMARY KEY,
    customer uuid NOT NULL,
    send_id uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount >= 0),
    captured bigint NOT NULL DEFAULT 0,
    released bigint NOT NULL DEFAULT 0,
    expires_at timestamptz NOT NULL,
    closed boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS ledger_reservations_open
    ON ledger_reservations (expires_at) WHERE NOT closed;
CREATE INDEX IF NOT EXISTS ledger_reservations_send ON ledger_reservations (send_id);
"""


class BalancesProjection:
    name = "ledger_balances"

    def __init__(self) -> None:
        self.owners = OwnerMap()

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        ensure_schema(conn, SCHEMA)
        self.owners.setup(conn)

    def process(self, conn: psycopg.Connection[Any], events: Sequence[tuple[int, Any]]) -> None:
        owners = self.owners.prepare(conn, [e for _, e in events])
        deltas: dict[UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for _, event in events:
            for tx in postings_for(event, owners):
                figures = deltas[tx.customer]
                for posting in tx.postings:
                    for name, delta in leg_figures(tx.kind, posting.account, posting.amount):
                        figures[name] += delta
            self.apply(event, conn, owners)
        with conn.cursor() as cur:
            for customer, figures in deltas.items():
                # CHECKs apply to an INSERT's proposed row before ON CONFLICT, so the row is
                # made first and the deltas applied by UPDATE.
                cur.execute(
                    "INSERT INTO ledger_balances (customer) VALUES (%s) ON CONFLICT DO NOTHING",
                    (customer,),
                )
                cur.execute(
                    "UPDATE ledger_balances SET credited = credited + %s, debited = debited + %s,"
                    " available = available + %s, held = held + %s, spent = spent + %s,"
                    " expired = expired + %s, receivable = receivable + %s WHERE customer = %s",
                    (
                        figures["credited"],
                        figures["debited"],
                        figures["available"],
                        figures["held"],
                        figures["spent"],
                        figures["expired"],
                        figures["receivable"],
                        customer,
                    ),
                )

    # -- lots and reservations -------------------------------------------------------------

    @singledispatchmethod
    def apply(self, event: Any, conn: psycopg.Connection[Any], owners: Owners) -> None:
        """Events that change no lot and no reservation."""

    @apply.register
    def _(self, event: Wallet.Opened, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute(
            "INSERT INTO ledger_balances (customer) VALUES (%s) ON CONFLICT DO NOTHING",
            (event.account_id,),
        )

    @apply.register
    def _(
        self, event: Wallet.CreditPurchased, conn: psycopg.Connection[Any], owners: Owners
    ) -> None:
        self._add_lot(conn, owners, event.originator_id, event.lot)

    @apply.register
    def _(self, event: Wallet.CreditGranted, conn: psycopg.Connection[Any], owners: Owners) -> None:
        self._add_lot(conn, owners, event.originator_id, event.lot)

    @apply.register
    def _(
        self, event: Wallet.ExpiredCreditSettled, conn: psycopg.Connection[Any], owners: Owners
    ) -> None:
        if event.lot is not None:
            self._add_lot(conn, owners, event.originator_id, event.lot)

    @apply.register
    def _(self, event: Wallet.CreditHeld, conn: psycopg.Connection[Any], owners: Owners) -> None:
        self._move(conn, event.allocation, -1)

    @apply.register
    def _(self, event: Wallet.CreditDebited, conn: psycopg.Connection[Any], owners: Owners) -> None:
        self._move(conn, event.allocation, -1)

    @apply.register
    def _(
        self, event: Wallet.CreditReturned, conn: psycopg.Connection[Any], owners: Owners
    ) -> None:
        self._move(conn, event.allocation, 1)

    @apply.register
    def _(self, event: Wallet.LotExpired, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute("UPDATE ledger_lots SET remaining = 0 WHERE lot_id = %s", (event.lot_id,))

    @apply.register
    def _(self, event: Reservation.Opened, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute(
            "INSERT INTO ledger_reservations (reservation_id, customer, send_id, amount,"
            " expires_at) VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (event.originator_id, event.account_id, event.send_id, event.amount, event.expires_at),
        )

    @apply.register
    def _(self, event: Reservation.Captured, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute(
            "UPDATE ledger_reservations SET captured = captured + %s WHERE reservation_id = %s",
            (event.total, event.originator_id),
        )

    @apply.register
    def _(self, event: Reservation.Released, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute(
            "UPDATE ledger_reservations SET released = released + %s WHERE reservation_id = %s",
            (event.total, event.originator_id),
        )

    @apply.register
    def _(self, event: Reservation.Closed, conn: psycopg.Connection[Any], owners: Owners) -> None:
        conn.execute(
            "UPDATE ledger_reservations SET closed = true WHERE reservation_id = %s",
            (event.originator_id,),
        )

    def _add_lot(
        self, conn: psycopg.Connection[Any], owners: Owners, wallet: UUID, lot: Any
    ) -> None:
        owner = owners.get(wallet)
        if owner is None:
            return
        conn.execute(
            "INSERT INTO ledger_lots VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            (
                lot.lot_id,
                owner.account_id,
                lot.source.value,
                lot.amount,
                lot.amount,
                lot.acquired_at,
                lot.expires_at,
            ),
        )

    def _move(self, conn: psycopg.Connection[Any], allocation: Any, sign: int) -> None:
        for share in allocation:
            conn.execute(
                "UPDATE ledger_lots SET remaining = remaining + %s WHERE lot_id = %s",
                (sign * share.amount, share.lot_id),
            )
