"""The sign-in stores in memory: sessions and failed attempts as the PostgreSQL ones keep them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from adapters.mail.letters import Mail
from domain.accounts.session import StoredSession


class MemorySessions:
    def __init__(self) -> None:
        self.by_hash: dict[bytes, StoredSession] = {}

    def create(self, session: StoredSession) -> None:
        self.by_hash[session.token_hash] = session

    def find(self, token_hash: bytes) -> StoredSession | None:
        return self.by_hash.get(token_hash)

    def touch(self, session_id: UUID, at: datetime) -> None:
        for token, session in self.by_hash.items():
            if session.session_id == session_id:
                self.by_hash[token] = replace(session, last_seen_at=at)

    def of_user(self, user_id: UUID, now: datetime, idle: timedelta) -> Sequence[StoredSession]:
        live = [
            s
            for s in self.by_hash.values()
            if s.user_id == user_id and now < s.expires_at and now < s.last_seen_at + idle
        ]
        return sorted(live, key=lambda s: s.created_at, reverse=True)

    def revoke(self, session_id: UUID, user_id: UUID) -> bool:
        for token, session in list(self.by_hash.items()):
            if session.session_id == session_id and session.user_id == user_id:
                del self.by_hash[token]
                return True
        return False

    def setup_done(self, user_id: UUID) -> None:
        for token, session in self.by_hash.items():
            if session.user_id == user_id:
                self.by_hash[token] = replace(session, setup_required=False)

    def setup_needed(self, user_ids: Collection[UUID]) -> None:
        for token, session in self.by_hash.items():
            if session.user_id in user_ids:
                self.by_hash[token] = replace(session, setup_required=True)

    def revoke_user(self, user_id: UUID, keep: UUID | None = None) -> int:
        ended = [
            t for t, s in self.by_hash.items() if s.user_id == user_id and s.session_id != keep
        ]
        for token in ended:
            del self.by_hash[token]
        return len(ended)


class MemoryAttempts:
    def __init__(self) -> None:
        self.failures: dict[str, list[datetime]] = defaultdict(list)

    def failed(self, key: str, at: datetime) -> None:
        self.failures[key].append(at)

    def since(self, key: str, since: datetime) -> Sequence[datetime]:
        return [at for at in self.failures[key] if at > since]


class MemoryResetTokens:
    def __init__(self) -> None:
        self.tokens: dict[bytes, tuple[UUID, datetime, bool]] = {}

    def create(self, token_hash: bytes, user_id: UUID, expires_at: datetime) -> None:
        self.tokens[token_hash] = (user_id, expires_at, False)

    def peek(self, token_hash: bytes, now: datetime) -> UUID | None:
        found = self.tokens.get(token_hash)
        return None if found is None or found[2] or found[1] <= now else found[0]

    def revoke_subject(self, subject_id: UUID, now: datetime) -> None:
        for token, (subject, expires, _) in list(self.tokens.items()):
            if subject == subject_id:
                self.tokens[token] = (subject, expires, True)

    def take(self, token_hash: bytes, now: datetime) -> UUID | None:
        found = self.tokens.get(token_hash)
        if found is None or found[2] or found[1] <= now:
            return None
        self.tokens[token_hash] = (found[0], found[1], True)
        return found[0]


class MemoryOutbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    def enqueue(self, mail: Mail, now: datetime) -> None:
        self.mails.append(mail)
