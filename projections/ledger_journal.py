"""The double-entry journal: one transaction per money-moving ledger event, its postings summing
to zero (a deferred constraint trigger refuses anything else at commit, as django-hordak does).

Read by finance (``/v1/finance/journal``, the trial balance) and by customers' statements.
``recorded_at`` is the event's own timestamp, so "as of T" is a filter on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from adapters.postgres.schema import ensure_schema
from domain.ledger.postings import postings_for
from projections.ledger_owners import OwnerMap

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal_transactions (
    notification_id bigint NOT NULL,
    seq smallint NOT NULL,
    customer uuid NOT NULL,
    kind text NOT NULL,
    description text NOT NULL,
    event_topic text NOT NULL,
    originator_id uuid NOT NULL,
    originator_version integer NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (notification_id, seq)
);
CREATE INDEX IF NOT EXISTS journal_transactions_customer
    ON journal_transactions (customer, recorded_at);
CREATE INDEX IF NOT EXISTS journal_transactions_recorded ON journal_transactions (recorded_at);
CREATE TABLE IF NOT EXISTS journal_postings (
    notification_id bigint NOT NULL,
    seq smallint NOT NULL,
    leg smallint NOT NULL,
    account text NOT NULL,
    customer uuid NOT NULL,
    amount bigint NOT NULL CHECK (amount <> 0),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (notification_id, seq, leg),
    FOREIGN KEY (notification_id, seq) REFERENCES journal_transactions
);
CREATE INDEX IF NOT EXISTS journal_postings_account ON journal_postings (account, recorded_at);
CREATE INDEX IF NOT EXISTS journal_postings_customer
    ON journal_postings (customer, account, notification_id);
CREATE OR REPLACE FUNCTION journal_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COALESCE(SUM(amount), 0) FROM journal_postings
        WHERE notification_id = NEW.notification_id AND seq = NEW.seq) <> 0 THEN
        RAISE EXCEPTION 'journal transaction (%, %) does not balance', NEW.notification_id, NEW.seq;
    END IF;
    RETURN NULL;
END $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'journal_balanced') THEN
        CREATE CONSTRAINT TRIGGER journal_balanced AFTER INSERT OR UPDATE ON journal_postings
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();
    END IF;
END $$;
"""


class JournalProjection:
    name = "ledger_journal"

    def __init__(self) -> None:
        self.owners = OwnerMap()

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        ensure_schema(conn, SCHEMA)
        self.owners.setup(conn)

    def process(self, conn: psycopg.Connection[Any], events: Sequence[tuple[int, Any]]) -> None:
        owners = self.owners.prepare(conn, [e for _, e in events])
        transactions = []
        postings = []
        for notification_id, event in events:
            for seq, tx in enumerate(postings_for(event, owners)):
                transactions.append(
                    (
                        notification_id,
                        seq,
                        tx.customer,
                        tx.kind,
                        tx.description,
                        type(event).__qualname__,
                        event.originator_id,
                        event.originator_version,
                        event.timestamp,
                    )
                )
                for leg, posting in enumerate(tx.postings):
                    postings.append(
                        (
                            notification_id,
                            seq,
                            leg,
                            posting.account.value,
                            tx.customer,
                            posting.amount,
                            event.timestamp,
                        )
                    )
        if not transactions:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO journal_transactions VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                transactions,
            )
            cur.executemany(
                "INSERT INTO journal_postings VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                postings,
            )
