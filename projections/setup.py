"""Create every read-model table the API queries, so a fresh database answers (with empty
figures) before the projection worker has run once. Idempotent."""

from __future__ import annotations

from typing import Any

from psycopg_pool import ConnectionPool

from adapters.postgres import callbacks
from projections import replies
from projections.failures import setup_failures
from projections.ledger_balances import BalancesProjection
from projections.ledger_journal import JournalProjection
from projections.messaging import MessagingProjection
from projections.runner import setup_tracking


def setup_read_models(pool: ConnectionPool[Any]) -> None:
    setup_tracking(pool)
    with pool.connection() as conn:
        setup_failures(conn)
        for projection in (JournalProjection(), BalancesProjection(), MessagingProjection()):
            projection.setup(conn)
        replies.setup(conn)
        callbacks.setup(conn)
