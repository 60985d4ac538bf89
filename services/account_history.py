"""An account's history as support and the owner read it: every event of the account, its
team and its users, in the order they happened, with who did it (``actor``: a key
``customer:kt_...``, a user ``user:<id>``, a staff user likewise, ``registration``...).

Each entry names its event and shows its plain fields; personal data (names, addresses, the
e-mail) shows as stored for the owner and redacted for staff, and secrets (password hashes,
two-factor secrets and recovery codes) never show.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.accounts.application import Accounts
from domain.accounts.team import Team
from domain.personal import REDACTED, PersonalData

HIDDEN = frozenset(
    {"password_hash", "secret", "recovery_hashes", "code_hash", "originator_topic", "timestamp",
     "originator_id", "originator_version", "class_version"}
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    at: datetime
    subject: str
    """``account``, ``team`` or ``user:<username>``."""
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
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def entries(self, account_id: UUID, *, personal: bool) -> list[Entry]:
        """``personal``: show personal data (the account's owner) or redact it (staff)."""
        accounts = self.accounts
        accounts.account(account_id)  # it exists
        team = accounts.team(account_id)
        subjects: list[tuple[str, UUID]] = [("account", account_id)]
        members: set[UUID | None] = set(team.members)
        if Team.create_id(account_id) in accounts.repository:
            subjects.append(("team", team.id))
            for event in accounts.repository.event_store.get(team.id):  # removed ones too
                members |= set(getattr(event, "members", {})) | {getattr(event, "user_id", None)}
        for user_id in sorted((m for m in members if m is not None), key=str):
            subjects.append((f"user:{accounts.user(user_id).username}", user_id))
        found: list[Entry] = []
        store = accounts.repository.event_store
        for subject, originator in subjects:
            for event in store.get(originator):
                at: datetime = getattr(event, "timestamp")  # noqa: B009 - every Aggregate.Event
                fields = {k: _plain(v, personal) for k, v in vars(event).items() if k not in HIDDEN}
                found.append(
                    Entry(
                        at,
                        subject,
                        type(event).__name__,
                        fields.pop("actor", None),
                        fields,
                    )
                )
        return sorted(found, key=lambda e: e.at)
