"""The accounts' registrations as the registration repair follows them
(``services.registration.RegistrationLog``): ``Account.Registered`` notifications of the Accounts
application, read without decrypting anything (only the account id and the time are needed),
and the repair's position in ``projection_tracking``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic
from psycopg_pool import ConnectionPool

from adapters.postgres.tracking import position, save_position, setup_tracking
from domain.accounts.account import Account
from domain.accounts.application import Accounts

FOLLOWER = "registration-repair"
REGISTERED = get_topic(Account.Registered)


@dataclass(frozen=True)
class Registration:
    position: int
    account_id: UUID
    registered_at: datetime


class _Registered(msgspec.Struct):
    timestamp: datetime


_decoder = msgspec.json.Decoder(_Registered)


class PostgresRegistrationLog:
    def __init__(self, accounts: Accounts, pool: ConnectionPool[Any]) -> None:
        self.accounts = accounts
        self.pool = pool
        setup_tracking(pool)

    def registrations_after(self, after: int, limit: int) -> Sequence[Registration]:
        notifications = self.accounts.recorder.select_notifications(
            start=after, limit=limit, topics=[REGISTERED], inclusive_of_start=False
        )
        return [
            Registration(
                position=n.id,
                account_id=UUID(str(n.originator_id)),
                registered_at=_decoder.decode(n.state).timestamp,
            )
            for n in notifications
        ]

    def repaired_up_to(self) -> int:
        with self.pool.connection() as conn:
            return position(conn, FOLLOWER, self.accounts.name)

    def save_position(self, notification_id: int) -> None:
        with self.pool.connection() as conn:
            save_position(conn, FOLLOWER, self.accounts.name, notification_id)
