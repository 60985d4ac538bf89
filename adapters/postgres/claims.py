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

``PostgresClaims`` is ``services.submission.Claims`` (with the sender's lease, see
``domain.messaging.claims``), ``PostgresCarrierIds`` is
``services.receipts.CarrierIds``, ``ResultRecorder`` is ``services.submission.ResultRecorder``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import DataError as EventSourcingDataError
from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema
from adapters.smpp.message_id import IdFormat, canonical_message_id
from domain.messaging.application import Messaging
from domain.messaging.claims import FINAL, Claim, ClaimTicket, InDoubt
from domain.messaging.records import SubmitOutcome, SubmitResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS submit_claims (
    message_id uuid PRIMARY KEY,
    route text NOT NULL,
    state text NOT NULL,
    attempt integer NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    owner uuid,
    carrier text,
    handset text,
    send_id uuid,
    account_id uuid,
    idx integer,
    parts smallint,
    price integer
);
CREATE INDEX IF NOT EXISTS submit_claims_in_doubt ON submit_claims (carrier, handset)
    WHERE state IN ('submitting', 'uncertain');
CREATE INDEX IF NOT EXISTS submit_claims_send ON submit_claims (send_id);
CREATE TABLE IF NOT EXISTS carrier_leases (
    owner uuid PRIMARY KEY,
    route text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS carrier_ids (
    carrier text NOT NULL,
    carrier_id text NOT NULL,
    message_id uuid NOT NULL,
    send_id uuid NOT NULL,
    account_id uuid NOT NULL,
    part smallint NOT NULL,
    handset text NOT NULL DEFAULT '',
    submitted_at timestamptz,
    PRIMARY KEY (carrier, carrier_id)
);
CREATE INDEX IF NOT EXISTS carrier_ids_message ON carrier_ids (message_id);
"""

LEASE_SECONDS = 20.0
"""How long a sender's claims count as in work after its last renewal: a sender that died is
known as such this long after it stopped renewing (its NATS messages come back after their
30 s ack_wait, by then its claims are interrupted)."""
RENEW_EVERY = 4.0
"""Seconds between a live sender's lease renewals."""


def create_tables(pool: ConnectionPool[Any]) -> None:
    with pool.connection() as conn:
        ensure_schema(conn, SCHEMA)


class PostgresClaims:
    """The claims of one sender process (``owner``) on one route of a carrier, and its lease."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        route: str,
        carrier: str = "",
        owner: UUID | None = None,
    ) -> None:
        self.pool = pool
        self.route = route
        self.carrier = carrier or route
        self.owner = owner or uuid4()
        create_tables(pool)

    def renew_lease(self) -> None:
        """Start or renew this sender's lease (``LEASE_SECONDS`` from now, database time)."""
        with self.pool.connection() as conn:
            conn.execute(
                "INSERT INTO carrier_leases VALUES (%s, %s, now() + make_interval(secs => %s))"
                " ON CONFLICT (owner) DO UPDATE SET expires_at = EXCLUDED.expires_at",
                (self.owner, self.route, LEASE_SECONDS),
            )

    def end_lease(self) -> None:
        """A sender that stopped: whatever it still claims is interrupted at once."""
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM carrier_leases WHERE owner = %s", (self.owner,))

    def earlier(self, message_ids: Sequence[UUID]) -> dict[UUID, Claim]:
        """The claims the messages have, each saying whether a live sender holds it."""
        if not message_ids:
            return {}
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT c.message_id, c.state, c.attempt,"
                " c.state = 'submitting' AND coalesce(l.expires_at > now(), false),"
                " extract(epoch FROM now() - c.updated_at)::float8"
                " FROM submit_claims c LEFT JOIN carrier_leases l ON l.owner = c.owner"
                " WHERE c.message_id = ANY(%b)",
                (list(message_ids),),
            ).fetchall()
        return {row[0]: Claim(row[1], row[2], held=row[3], age=row[4]) for row in rows}

    def take(self, tickets: Sequence[ClaimTicket]) -> set[UUID]:
        """Claim messages right before they are written: each ticket's attempt is taken if
        its claim is still as triage saw it (none for attempt 1, an earlier attempt that is
        not final and not held by a live sender otherwise); returns those taken."""
        if not tickets:
            return set()
        columns = (
            [t.message_id for t in tickets],
            [t.attempt for t in tickets],
            [t.handset for t in tickets],
            [t.send_id for t in tickets],
            [t.account_id for t in tickets],
            [t.index for t in tickets],
            [t.parts for t in tickets],
            [t.price for t in tickets],
        )
        with self.pool.connection() as conn:
            rows = conn.execute(
                "INSERT INTO submit_claims AS c (message_id, route, state, attempt, owner,"
                " carrier, handset, send_id, account_id, idx, parts, price)"
                " SELECT u.id, %s, 'submitting', u.n, %s, %s, u.handset, u.send_id,"
                " u.account_id, u.idx, u.parts, u.price FROM unnest(%b::uuid[], %b::int[],"
                " %b::text[], %b::uuid[], %b::uuid[], %b::int[], %b::smallint[], %b::int[])"
                " AS u(id, n, handset, send_id, account_id, idx, parts, price)"
                " ON CONFLICT (message_id) DO UPDATE"
                " SET state = 'submitting', attempt = EXCLUDED.attempt, owner = EXCLUDED.owner,"
                " route = EXCLUDED.route, carrier = EXCLUDED.carrier,"
                " handset = EXCLUDED.handset, updated_at = now()"
                " WHERE c.attempt < EXCLUDED.attempt AND c.state <> ALL(%s)"
                " AND NOT (c.state = 'submitting' AND EXISTS (SELECT FROM carrier_leases l"
                "  WHERE l.owner = c.owner AND l.expires_at > now()))"
                " RETURNING message_id",
                (self.route, self.owner, self.carrier, *columns, sorted(FINAL)),
            ).fetchall()
        return {row[0] for row in rows}

    def give_back(self, message_ids: Iterable[UUID]) -> None:
        """Give back this sender's claims of messages whose attempt did not go out (throttled,
        queue full, no bind, or the answer to ``take`` was lost): a first attempt's claim goes
        (its redelivery is a first attempt again), a later one's is uncertain again, as it was
        before it was taken."""
        ids = list(message_ids)
        if ids:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute(
                    "DELETE FROM submit_claims WHERE message_id = ANY(%b)"
                    " AND state = 'submitting' AND attempt = 1 AND owner = %s",
                    (ids, self.owner),
                )
                conn.execute(
                    "UPDATE submit_claims SET state = 'uncertain', attempt = attempt - 1,"
                    " owner = NULL, updated_at = now() WHERE message_id = ANY(%b)"
                    " AND state = 'submitting' AND attempt > 1 AND owner = %s",
                    (ids, self.owner),
                )

    def adopt_carrier(self, carrier: str, login: str) -> int:
        """Index rows written when carriers were named by their address (``system_id@host:
        port``, before the carriers file named them) are renamed to the carrier's name."""
        with self.pool.connection() as conn:
            cursor = conn.execute(
                "UPDATE carrier_ids SET carrier = %s WHERE carrier = %s", (carrier, login)
            )
            return int(cursor.rowcount)


# A claim in doubt: its attempt's answer is lost (recorded uncertain, or its sender died).
IN_DOUBT_BY_HANDSET = (
    "SELECT c.carrier, c.handset, c.message_id, c.attempt, c.send_id, c.account_id,"
    " c.idx, c.parts, c.price, c.route FROM submit_claims c"
    " JOIN unnest(%b::text[], %b::text[]) AS k(carrier, handset) USING (carrier, handset)"
    " WHERE c.send_id IS NOT NULL AND (c.state = 'uncertain' OR (c.state = 'submitting'"
    " AND NOT EXISTS (SELECT FROM carrier_leases l WHERE l.owner = c.owner"
    " AND l.expires_at > now())))"
)
STILL_IN_DOUBT = (
    "WITH held AS (SELECT 1 FROM submit_claims c WHERE c.message_id = %s AND c.attempt = %s"
    " AND (c.state = 'uncertain' OR (c.state = 'submitting' AND NOT EXISTS (SELECT FROM"
    " carrier_leases l WHERE l.owner = c.owner AND l.expires_at > now()))) FOR UPDATE)"
    " SELECT 1 / count(*) FROM held"
)
"""Fails the transaction (division by zero) unless the claim is still in doubt as found."""


class PostgresClaimCounts:
    """How many of a send's messages are in each claim state
    (``services.cancellation.ClaimCounts``)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        create_tables(pool)

    def claim_counts(self, send_id: UUID) -> dict[str, int]:
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT state, count(*) FROM submit_claims WHERE send_id = %s GROUP BY state",
                (send_id,),
            ).fetchall()
        return {state: int(n) for state, n in rows}


class PostgresInDoubt:
    """The messages in doubt at a carrier, by handset, and the recovery of one by a receipt
    (``services.receipts.InDoubtClaims``); see ``domain.messaging.claims.InDoubt``."""

    def __init__(self, pool: ConnectionPool[Any], messaging: Messaging) -> None:
        self.pool = pool
        self.messaging = messaging
        create_tables(pool)

    def in_doubt(
        self, handsets: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], list[InDoubt]]:
        """The claims in doubt per (carrier, handset) asked about; one query."""
        if not handsets:
            return {}
        carriers = [h[0] for h in handsets]
        tails = [h[1] for h in handsets]
        with self.pool.connection() as conn:
            rows = conn.execute(IN_DOUBT_BY_HANDSET, (carriers, tails)).fetchall()
        found: dict[tuple[str, str], list[InDoubt]] = {}
        for r in rows:
            ticket = ClaimTicket(r[2], r[3], r[1], r[4], r[5], r[6], r[7], r[8])
            found.setdefault((r[0], r[1]), []).append(InDoubt(ticket, r[9], r[0]))
        return found

    def recover(self, doubt: InDoubt, carrier_id: str, at: datetime) -> bool:
        """Record the attempt accepted under ``carrier_id`` (with its claim and index row, one
        transaction), if the claim is still in doubt as found; False if it is not (its
        message was sent again meanwhile, or another receipt recovered it)."""
        result = doubt.accepted_as(carrier_id, at)
        handsets = {result.message_id: doubt.ticket.handset}
        statements = side_effects([result], doubt.carrier, handsets)
        guard = (STILL_IN_DOUBT, [(doubt.ticket.message_id, doubt.ticket.attempt)])
        try:
            self.messaging.record_results(doubt.route, [result], side_effects=[guard, *statements])
        except EventSourcingDataError:  # division by zero: the claim changed meanwhile
            return False
        return True


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
    ) -> dict[tuple[str, str], tuple[UUID, UUID, UUID, int, str]]:
        """(message id, send id, account id, part, handset) of the latest submission per
        (carrier, index key) found; one query."""
        if not keys:
            return {}
        carriers = [k[0] for k in keys]
        ids = [k[1] for k in keys]
        with self.pool.connection() as conn:
            rows = conn.execute(
                "SELECT c.carrier, c.carrier_id, c.message_id, c.send_id, c.account_id, c.part,"
                " c.handset"
                " FROM carrier_ids c JOIN unnest(%b::text[], %b::text[]) AS k(carrier, carrier_id)"
                " USING (carrier, carrier_id)",
                (carriers, ids),
            ).fetchall()
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5], r[6]) for r in rows}


def side_effects(
    results: Sequence[SubmitResult], carrier: str, handsets: Mapping[UUID, str]
) -> list[tuple[str, list[Any]]]:
    """The claims' new states and the carrier-id index rows saved with a CarrierReport.

    A claim is set to its message's last result (written if the message was never claimed:
    one cancelled or expired before a submit), unless it is final already or at a later
    attempt: a verdict made on what a sender read (an interrupted attempt recorded uncertain)
    never undoes what a receipt settled meanwhile (``PostgresInDoubt.recover``), which would
    have the message submitted again. An index row names the latest submission of a
    carrier id (an SMSC may hand out an id again, after a restart), with the handset the
    message went to (``handsets``: ``services.handsets.handset_tail``), so that a receipt for
    the same id from another handset is not taken for it."""
    final: dict[UUID, tuple[str, int]] = {}
    for r in results:  # the last result of a message wins (uncertain, then its resubmit)
        final[r.message_id] = (r.outcome.value, r.attempt)
    index = [
        (
            index_key(carrier_id),
            r.message_id,
            r.send_id,
            r.account_id,
            part,
            handsets.get(r.message_id, ""),
            r.at,
        )
        for r in results
        if r.outcome in (SubmitOutcome.ACCEPTED, SubmitOutcome.UNCERTAIN)
        for part, carrier_id in enumerate(r.carrier_ids, start=1)
        if carrier_id
    ]
    statements: list[tuple[str, list[Any]]] = [
        (
            "INSERT INTO submit_claims AS c (message_id, route, state, attempt)"
            " SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], %b::int[])"
            " ON CONFLICT (message_id) DO UPDATE SET state = EXCLUDED.state,"
            " attempt = EXCLUDED.attempt, updated_at = now()"
            " WHERE c.state <> ALL(%s) AND c.attempt <= EXCLUDED.attempt",
            [
                (
                    list(final),
                    [results[0].route] * len(final),
                    [v[0] for v in final.values()],
                    [v[1] for v in final.values()],
                    sorted(FINAL),
                )
            ],
        )
    ]
    if index:
        statements.append(
            (
                "INSERT INTO carrier_ids AS c (carrier, carrier_id, message_id, send_id,"
                " account_id, part, handset, submitted_at) SELECT %s, * FROM unnest("
                "%b::text[], %b::uuid[], %b::uuid[], %b::uuid[], %b::smallint[], %b::text[],"
                " %b::timestamptz[]) ON CONFLICT (carrier, carrier_id) DO UPDATE SET"
                " message_id = EXCLUDED.message_id, send_id = EXCLUDED.send_id,"
                " account_id = EXCLUDED.account_id, part = EXCLUDED.part,"
                " handset = EXCLUDED.handset, submitted_at = EXCLUDED.submitted_at"
                " WHERE c.message_id <> EXCLUDED.message_id",
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

    def record(self, results: Sequence[SubmitResult], handsets: Mapping[UUID, str]) -> None:
        """``handsets``: each submitted message's handset (the index keeps it)."""
        self.messaging.record_results(
            self.route, results, side_effects=side_effects(results, self.carrier, handsets)
        )
