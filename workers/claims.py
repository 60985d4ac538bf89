"""Submit claims: the carrier sender's write-ahead record that makes submits exactly-once.

Before a message goes to the SMSC its claim is written (``submitting``, attempt n). The result
event and the claim's new state are saved in one transaction (``side_effects``). A redelivered
NATS message therefore finds either a final claim (acknowledged without a second submit) or a
claim still ``submitting``: the sender died between submit and record, so the carrier may have
it. That uncertainty is recorded as an event before the message is submitted again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.postgres.schema import ensure_schema
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

FINAL = frozenset(
    outcome.value
    for outcome in (
        SubmitOutcome.ACCEPTED,
        SubmitOutcome.REJECTED,
        SubmitOutcome.CANCELLED,
        SubmitOutcome.EXPIRED,
    )
)


@dataclass(frozen=True)
class Claim:
    state: str
    attempt: int


class Claims:
    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        with pool.connection() as conn:
            ensure_schema(conn, SCHEMA)

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


def side_effects(
    results: Sequence[SubmitResult], carrier: str, carrier_key: Any
) -> list[tuple[str, list[Any]]]:
    """The claim updates and carrier-id index rows saved with a CarrierReport, each one
    statement over arrays (a batch of 256 results costs two statements, not 512)."""
    final: dict[UUID, tuple[str, int]] = {}
    for r in results:  # the last result of a message wins (uncertain, then its resubmit)
        final[r.message_id] = (r.outcome.value, r.attempt)
    index = [
        (carrier_key(carrier_id), r.message_id, r.send_id, r.account_id, part)
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
