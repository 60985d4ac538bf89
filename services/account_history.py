"""An account's history as support and the owner read it: every event of the account, its
team and its users, the money booked on its wallet (purchases, grants, debits, expiries,
auto-recharge, billing; not each send's hold and return, which the statement lists) and what
was done to its sends by hand (released from review, cancelled), in the order they happened,
with who did it (``actor``: a key ``customer:kt_...``, a user ``user:<id>``, a staff user
likewise, ``registration``...). Which sends had something done to them comes from the read
side (``SendsActedOn``); their events, like all others here, from the event store.

Each entry names its event and shows its plain fields; personal data (names, addresses, the
e-mail) shows as stored for the owner and redacted for staff, and secrets (password hashes,
two-factor secrets and recovery codes) never show.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from domain.accounts.account import Account
from domain.accounts.application import Accounts
from domain.accounts.team import Team
from domain.ledger.application import Ledger
from domain.ledger.wallet import Wallet
from domain.messaging.application import Messaging
from domain.personal import REDACTED, PersonalData

HIDDEN = frozenset(
    {"password_hash", "secret", "recovery_hashes", "code_hash", "originator_topic", "timestamp",
     "originator_id", "originator_version", "class_version"}
)  # fmt: skip


PER_SEND = frozenset({"CreditHeld", "CreditReturned"})
"""Wallet events each send books by itself: the statement's lines, not the history's."""
BY_HAND = frozenset({"ReviewReleased", "Cancelled"})
"""Send events a person causes."""


class SendsActedOn(Protocol):
    """The account's sends something was done to by hand: held for review, or cancelled."""

    def acted_on(self, account_id: UUID) -> list[UUID]: ...


@dataclass(frozen=True)
class Entry:
    at: datetime
    subject: str
    """``account``, ``team``, ``user:<username>``, ``wallet`` or ``send:<id>``."""
    event: str
    actor: str | None
    details: dict[str, Any]


def _plain(value: Any, personal: bool) -> Any:  # noqa: PLR0911 - a return per kind of value
    if isinstance(value, PersonalData):
        return value.shown() if personal else REDACTED
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, UUID | datetime | date):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, personal) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, personal) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k), personal) for k in value.__dataclass_fields__}
    return value


class AccountHistory:
    def __init__(
        self, accounts: Accounts, ledger: Ledger, messaging: Messaging, sends: SendsActedOn
    ) -> None:
        self.accounts = accounts
        self.ledger = ledger
        self.messaging = messaging
        self.sends = sends

    def account_as_of(self, account_id: UUID, moment: datetime) -> Account | None:
        """The account as it was at ``moment``, replayed from its events up to then (None:
        it did not exist yet)."""
        events = self.accounts.repository.event_store.get(account_id)
        version = sum(1 for e in events if getattr(e, "timestamp") <= moment)  # noqa: B009
        if not version:
            return None
        account: Account = self.accounts.repository.get(account_id, version=version)
        return account

    def entries(self, account_id: UUID, *, personal: bool) -> list[Entry]:
        """``personal``: show personal data (the account's owner) or redact it (staff)."""
        accounts = self.accounts
        accounts.account(account_id)  # it exists
        team = accounts.team(account_id)
        subjects: list[tuple[str, UUID, Any, frozenset[str] | None]] = [
            ("account", account_id, accounts.repository.event_store, None)
        ]
        members: set[UUID | None] = set(team.members)
        if Team.create_id(account_id) in accounts.repository:
            subjects.append(("team", team.id, accounts.repository.event_store, None))
            for event in accounts.repository.event_store.get(team.id):  # removed ones too
                members |= set(getattr(event, "members", {})) | {getattr(event, "user_id", None)}
        for user_id in sorted((m for m in members if m is not None), key=str):
            name = f"user:{accounts.user(user_id).username}"
            subjects.append((name, user_id, accounts.repository.event_store, None))
        wallet = Wallet.create_id(account_id)
        if wallet in self.ledger.repository:
            subjects.append(("wallet", wallet, self.ledger.repository.event_store, None))
        for send_id in self.sends.acted_on(account_id):
            store = self.messaging.repository.event_store
            subjects.append((f"send:{send_id}", send_id, store, BY_HAND))
        found: list[Entry] = []
        for subject, originator, store, only in subjects:
            for event in store.get(originator):
                kind = type(event).__name__
                if kind in PER_SEND or (only is not None and kind not in only):
                    continue
                at: datetime = getattr(event, "timestamp")  # noqa: B009 - every Aggregate.Event
                fields = {k: _plain(v, personal) for k, v in vars(event).items() if k not in HIDDEN}
                found.append(Entry(at, subject, kind, fields.pop("actor", None) or None, fields))
        return sorted(found, key=lambda e: e.at)
