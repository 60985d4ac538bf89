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

from adapters.pgschema import ensure_schema
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
    {SubmitOutcome.ACCEPTED.value, SubmitOutcome.REJECTED.value, SubmitOutcome.CANCELLED.value}
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
        with self.pool.connection() as conn, conn.transaction():
            existing = conn.execute(
                "SELECT message_id, state, attempt FROM submit_claims"
                " WHERE message_id = ANY(%s) FOR UPDATE",
                (list(message_ids),),
            ).fetchall()
            found = {row[0]: Claim(row[1], row[2]) for row in existing}
            fresh = [(m, route) for m in message_ids if m not in found]
            if fresh:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO submit_claims (message_id, route, state, attempt)"
                        " VALUES (%s, %s, 'submitting', 1) ON CONFLICT DO NOTHING",
                        fresh,
                    )
            retried = [(m,) for m, claim in found.items() if claim.state not in FINAL]
            if retried:
                with conn.cursor() as cur:
                    cur.executemany(
                        "UPDATE submit_claims SET state = 'submitting', attempt = attempt + 1,"
                        " updated_at = now() WHERE message_id = %s",
                        retried,
                    )
        return found

    def unclaim(self, message_ids: Iterable[UUID]) -> None:
        """Give claims back for messages that were never written to the SMSC (throttled,
        queue full, no bind): their redelivery is an ordinary first attempt again."""
        ids = list(message_ids)
        if ids:
            with self.pool.connection() as conn:
                conn.execute(
                    "DELETE FROM submit_claims WHERE message_id = ANY(%s)"
                    " AND state = 'submitting' AND attempt = 1",
                    (ids,),
                )


def side_effects(
    results: Sequence[SubmitResult], carrier: str, carrier_key: Any
) -> list[tuple[str, list[Any]]]:
    """The claim updates and carrier-id index rows saved with a CarrierReport."""
    claims = [(r.outcome.value, r.attempt, r.message_id) for r in results]
    index = [
        (carrier, carrier_key(carrier_id), r.message_id, r.send_id, r.account_id, part)
        for r in results
        if r.outcome in (SubmitOutcome.ACCEPTED, SubmitOutcome.UNCERTAIN)
        for part, carrier_id in enumerate(r.carrier_ids, start=1)
        if carrier_id
    ]
    return [
        (
            "UPDATE submit_claims SET state = %s, attempt = %s, updated_at = now()"
            " WHERE message_id = %s",
            claims,
        ),
        (
            "INSERT INTO carrier_ids (carrier, carrier_id, message_id, send_id, account_id, part)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            index,
        ),
    ]
