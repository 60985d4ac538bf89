"""The carrier sender's two working tables: submit claims and the carrier-id index.

``submit_claims`` holds one ``domain.messaging.claims.Claim`` per message: written
(``submitting``) before the message goes to the carrier, set to its result's outcome by the
transaction that records the result. ``carrier_ids`` names, per carrier account and carrier
message id, the message part a receipt is about; the DLR ingest matches through it.

Both change only together with the events they derive from: ``ResultRecorder`` saves a
``CarrierReport`` and, in its transaction (``SideEffectRecorder``), the claims' new states and
the index rows, each one statement over arrays (a batch of 256 results costs two statements,
not 512). So a claim is never final without its result, and a receipt never matches a message
whose acceptance was not recorded.

``PostgresClaims`` is ``services.submission.Claims``, ``PostgresCarrierIds`` is
``services.receipts.CarrierIds``, ``ResultRecorder`` is ``services.submission.ResultRecorder``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema
from adapters.smpp.message_id import IdFormat, canonical_message_id
from domain.messaging.application import Messaging
from domain.messaging.claims import FINAL, Claim
from domain.messaging.records import SubmitOutcome, SubmitResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS submit_claims (
    message_id uuid PRIMARY KEY,
    route text NOT NULL,
    state text NOT NULL,
    attempt integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS carrier_ids (
    carrier text NOT NULL,
    carrier_id text NOT NULL,
    message_id uuid NOT NULL,
    send_id uuid NOT NULL,
    account_id uuid NOT NULL,
    part smallint NOT NULL,
    PRIMARY KEY (carrier, carrier_id)
);
CREATE INDEX IF NOT EXISTS carrier_ids_message ON carrier_ids (message_id);
"""


def create_tables(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        ensure_schema(conn, SCHEMA)


class PostgresClaims:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        create_tables(pool)

    def claim(self, route: str, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        """Claim the messages for a submit. Returns the claims that already existed (a
        redelivery) with the state they had; the others are now ``submitting`` attempt 1."""
        ids = list(message_ids)
        with self.pool.connection() as conn, conn.transaction():
            fresh = {
                row[0]
                for row in conn.execute(
                    "INSERT INTO submit_claims (message_id, route, state, attempt)"
                    " SELECT id, %s, 'submitting', 1 FROM unnest(%b::uuid[]) AS id"
                    " ON CONFLICT DO NOTHING RETURNING message_id",
                    (route, ids),
                ).fetchall()
            }
            older = [m for m in ids if m not in fresh]
            if not older:
                return {}
            rows = conn.execute(
                "SELECT message_id, state, attempt FROM submit_claims"
                " WHERE message_id = ANY(%b) FOR UPDATE",
                (older,),
            ).fetchall()
            found = {row[0]: Claim(row[1], row[2]) for row in rows}
            retried = [m for m, claim in found.items() if claim.state not in FINAL]
            if retried:
                conn.execute(
                    "UPDATE submit_claims SET state = 'submitting', attempt = attempt + 1,"
                    " updated_at = now() WHERE message_id = ANY(%b)",
                    (retried,),
                )
        return found

    def unclaim(self, message_ids: Iterable[UUID]) -> None:
        """Give claims back for messages that were never written to the SMSC (throttled,
        queue full, no bind): their redelivery is an ordinary first attempt again."""
        ids = list(message_ids)
        if ids:
            with self.pool.connection() as conn:
                conn.execute(
                    "DELETE FROM submit_claims WHERE message_id = ANY(%b)"
                    " AND state = 'submitting' AND attempt = 1",
                    (ids,),
                )


def index_key(carrier_id: str) -> str:
    """A carrier id as the index keeps it (the ingest looks up every reading of a receipt's
    id, see ``adapters.smpp.message_id``)."""
    return canonical_message_id(carrier_id, IdFormat.OPAQUE)


class PostgresCarrierIds:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        create_tables(pool)  # the ingest may start before any carrier sender made them

    def lookup(
        self, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[UUID, UUID, UUID, int]]:
        """(message id, send id, account id, part) per (carrier, index key) found; one query."""
        if not keys:
            return {}
        carriers = [k[0] for k in keys]
        ids = [k[1] for k in keys]
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT c.carrier, c.carrier_id, c.message_id, c.send_id, c.account_id, c.part"
                " FROM carrier_ids c JOIN unnest(%b::text[], %b::text[]) AS k(carrier, carrier_id)"
                " USING (carrier, carrier_id)",
                (carriers, ids),
            ).fetchall()
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def side_effects(results: Sequence[SubmitResult], carrier: str) -> list[tuple[str, list[Any]]]:
    """The claim updates and carrier-id index rows saved with a CarrierReport."""
    final: dict[UUID, tuple[str, int]] = {}
    for r in results:  # the last result of a message wins (uncertain, then its resubmit)
        final[r.message_id] = (r.outcome.value, r.attempt)
    index = [
        (index_key(carrier_id), r.message_id, r.send_id, r.account_id, part)
        for r in results
        if r.outcome in (SubmitOutcome.ACCEPTED, SubmitOutcome.UNCERTAIN)
        for part, carrier_id in enumerate(r.carrier_ids, start=1)
        if carrier_id
    ]
    statements: list[tuple[str, list[Any]]] = [
        (
            "UPDATE submit_claims c SET state = u.state, attempt = u.attempt, updated_at = now()"
            " FROM unnest(%b::uuid[], %b::text[], %b::int[]) AS u(message_id, state, attempt)"
            " WHERE c.message_id = u.message_id",
            [(list(final), [v[0] for v in final.values()], [v[1] for v in final.values()])],
        )
    ]
    if index:
        statements.append(
            (
                "INSERT INTO carrier_ids (carrier, carrier_id, message_id, send_id, account_id,"
                " part) SELECT %s, * FROM unnest(%b::text[], %b::uuid[], %b::uuid[], %b::uuid[],"
                " %b::smallint[]) ON CONFLICT DO NOTHING",
                [(carrier, *map(list, zip(*index, strict=True)))],
            )
        )
    return statements


class ResultRecorder:
    """Records a bind's submit results: one ``CarrierReport`` with its side effects."""

    def __init__(self, messaging: Messaging, route: str, carrier: str) -> None:
        self.messaging = messaging
        self.route = route
        self.carrier = carrier
        """The carrier account (``adapters.carriers.Bind.carrier``): receipts match by it."""

    def record(self, results: Sequence[SubmitResult]) -> None:
        self.messaging.record_results(
            self.route, results, side_effects=side_effects(results, self.carrier)
        )
