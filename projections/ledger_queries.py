"""Reading the ledger's read models: balances, statements, the journal and the trial balance.

"As of T" reads filter on each transaction's recorded time (the event's own timestamp), which
gives the same figures as replaying the events recorded up to T (``ledger_replay`` proves it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.ledger.postings import ACCOUNT_TITLES, FIGURES, LedgerAccount, leg_figures

CREDIT_ACCOUNTS = [LedgerAccount.CUSTOMER_CREDIT.value, LedgerAccount.CREDIT_HELD.value]


@dataclass(frozen=True)
class Balance:
    credited: int = 0
    debited: int = 0
    available: int = 0
    held: int = 0
    spent: int = 0
    expired: int = 0
    receivable: int = 0
    expiring_soon: int = 0


@dataclass(frozen=True)
class StatementLine:
    position: str
    recorded_at: datetime
    kind: str
    description: str
    amount: int
    balance: int


@dataclass(frozen=True)
class JournalEntry:
    notification_id: int
    seq: int
    recorded_at: datetime
    customer: UUID
    kind: str
    description: str
    event: str
    postings: list[tuple[str, int]] = field(default_factory=list)


def balance(pool: ConnectionPool[Any], customer: UUID, now: datetime, days: int = 30) -> Balance:
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT credited, debited, available, held, spent, expired, receivable,"
            " (SELECT COALESCE(SUM(remaining), 0) FROM ledger_lots WHERE customer = %(c)s"
            "  AND remaining > 0 AND expires_at > %(now)s AND expires_at <= %(soon)s)"
            " FROM ledger_balances WHERE customer = %(c)s",
            {"c": customer, "now": now, "soon": now + timedelta(days=days)},
        ).fetchone()
    if row is None:
        return Balance()
    return Balance(*(int(v) for v in row))


def balance_as_of(pool: ConnectionPool[Any], customer: UUID, as_of: datetime) -> Balance:
    """The balance figures from the journal up to ``as_of`` (identical to the live ones when
    ``as_of`` is now)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT p.account, t.kind, SUM(p.amount) FROM journal_postings p"
            " JOIN journal_transactions t USING (notification_id, seq)"
            " WHERE p.customer = %s AND p.recorded_at <= %s GROUP BY p.account, t.kind",
            (customer, as_of),
        ).fetchall()
    figures = dict.fromkeys(FIGURES, 0)
    for account, kind, total in rows:
        for name, delta in leg_figures(kind, LedgerAccount(account), int(total)):
            figures[name] += delta
    return Balance(**figures)


def statement(
    pool: ConnectionPool[Any],
    customer: UUID,
    *,
    start: datetime | None,
    end: datetime | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[StatementLine]:
    """Movements of the customer's credit (available + held) with the running balance, oldest
    first. Holds and their releases net to zero inside it and do not appear; SMS appear when a
    carrier accepted them."""
    query = """
    WITH moves AS (
        SELECT t.notification_id, t.seq, t.recorded_at, t.kind, t.description,
               -SUM(p.amount) AS amount
        FROM journal_transactions t JOIN journal_postings p USING (notification_id, seq)
        WHERE t.customer = %(c)s AND p.account = ANY(%(accounts)s)
        GROUP BY t.notification_id, t.seq, t.recorded_at, t.kind, t.description
        HAVING SUM(p.amount) <> 0
    ), running AS (
        SELECT *, SUM(amount) OVER (ORDER BY notification_id, seq) AS balance FROM moves
    )
    SELECT notification_id, seq, recorded_at, kind, description, amount, balance FROM running
    WHERE (%(start)s::timestamptz IS NULL OR recorded_at >= %(start)s)
      AND (%(end)s::timestamptz IS NULL OR recorded_at < %(end)s)
      AND (notification_id, seq) > (%(after_n)s, %(after_s)s)
    ORDER BY notification_id, seq LIMIT %(limit)s
    """
    params = {
        "c": customer,
        "accounts": CREDIT_ACCOUNTS,
        "start": start,
        "end": end,
        "after_n": after[0] if after else -1,
        "after_s": after[1] if after else -1,
        "limit": limit,
    }
    with pool.connection() as conn:
        rows = conn.execute(query, params).fetchall()
    return [
        StatementLine(f"{n}.{s}", at, kind, text, int(amount), int(running))
        for n, s, at, kind, text, amount, running in rows
    ]


def journal(
    pool: ConnectionPool[Any],
    *,
    start: datetime | None,
    end: datetime | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[JournalEntry]:
    query = """
    SELECT t.notification_id, t.seq, t.recorded_at, t.customer, t.kind, t.description,
           t.event_topic, array_agg(p.account ORDER BY p.leg), array_agg(p.amount ORDER BY p.leg)
    FROM journal_transactions t JOIN journal_postings p USING (notification_id, seq)
    WHERE (%(start)s::timestamptz IS NULL OR t.recorded_at >= %(start)s)
      AND (%(end)s::timestamptz IS NULL OR t.recorded_at < %(end)s)
      AND (t.notification_id, t.seq) > (%(after_n)s, %(after_s)s)
    GROUP BY t.notification_id, t.seq
    ORDER BY t.notification_id, t.seq LIMIT %(limit)s
    """
    params = {
        "start": start,
        "end": end,
        "after_n": after[0] if after else -1,
        "after_s": after[1] if after else -1,
        "limit": limit,
    }
    with pool.connection() as conn:
        rows = conn.execute(query, params).fetchall()
    return [
        JournalEntry(
            n, s, at, cust, kind, text, topic, list(zip(accts, map(int, amts), strict=True))
        )
        for n, s, at, cust, kind, text, topic, accts, amts in rows
    ]


def trial_balance(pool: ConnectionPool[Any], as_of: datetime | None) -> dict[str, int]:
    """Balance per ledger account code (debit positive); the values sum to zero."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT account, SUM(amount) FROM journal_postings"
            " WHERE %(as_of)s::timestamptz IS NULL OR recorded_at <= %(as_of)s GROUP BY account",
            {"as_of": as_of},
        ).fetchall()
    found = {account: int(total) for account, total in rows}
    return {code.value: found.get(code.value, 0) for code in LedgerAccount}


def account_title(code: str) -> str:
    return ACCOUNT_TITLES[LedgerAccount(code)]


def captured(pool: ConnectionPool[Any], reservation_id: UUID) -> int:
    """What the reservation's messages have spent so far, as the read side has it (0 when it
    has none yet)."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT captured FROM ledger_reservations WHERE reservation_id = %s",
            (reservation_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def open_reservations_due(pool: ConnectionPool[Any], now: datetime, limit: int = 500) -> list[UUID]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT reservation_id FROM ledger_reservations WHERE NOT closed AND expires_at <= %s"
            " ORDER BY expires_at LIMIT %s",
            (now, limit),
        ).fetchall()
    return [row[0] for row in rows]


def accounts_with_expired_lots(pool: ConnectionPool[Any], now: datetime) -> list[UUID]:
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT DISTINCT customer FROM ledger_lots WHERE remaining > 0 AND expires_at <= %s",
            (now,),
        ).fetchall()
    return [row[0] for row in rows]
