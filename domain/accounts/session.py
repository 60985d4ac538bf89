"""A signed-in user's session as the session store keeps it (``services.signin``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.accounts.user import UserRole


@dataclass(frozen=True)
class StoredSession:
    session_id: UUID
    token_hash: bytes
    csrf_token: str
    user_id: UUID
    account_id: UUID | None
    role: UserRole
    username: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    """The absolute end; the idle end is ``last_seen_at + IDLE``."""
    user_agent: str
    setup_required: bool = False
    """Two-factor sign-in is required of the user and not set up yet: the session reaches
    only its setup (and signing out) until it is."""
