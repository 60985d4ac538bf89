"""Password reset by e-mail: proving who one is with a username (or account number) and the
e-mail address on file, then a single-use link.

``request`` answers nothing, whether or not the two matched a user (the caller learns nothing
about who has an account); when they match, a token valid ``VALID_FOR`` goes out in a mail
(through the outbox: the request never waits for SMTP) and only its SHA-256 is kept. At most
``MAILS_PER_HOUR`` such mails go to one user an hour (more requests are answered the same and
send nothing), so nobody can flood a mailbox. ``complete`` takes the token once (used,
expired or unknown: ``ResetTokenInvalidError``), sets the new password (the policy holds),
lifts a lock from guessing, and ends every session of the user.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from adapters.crypto.passwords import check_policy
from adapters.mail.letters import Mail, letter
from domain.accounts.application import Accounts
from domain.accounts.user import User, UserState
from services.ports import Clock
from services.signin import Attempts, PasswordHashes, SessionStore, token_hash

VALID_FOR = timedelta(minutes=30)
MAILS_PER_HOUR = 3
SAVE_ATTEMPTS = 10


class ResetTokenInvalidError(Exception):
    """A reset link works once, within 30 minutes of being sent."""

    def __init__(self) -> None:
        super().__init__("this password reset link is not valid (used, expired or mistyped)")


class ResetTokens(Protocol):
    """Single-use tokens by their hash (``adapters.postgres.sessions.PostgresOneTimeTokens``)."""

    def create(self, token_hash: bytes, user_id: UUID, expires_at: datetime) -> None: ...

    def take(self, token_hash: bytes, now: datetime) -> UUID | None:
        """The user of a token not used and not expired, marking it used (once)."""
        ...

    def peek(self, token_hash: bytes, now: datetime) -> UUID | None:
        """What ``take`` would answer, without using the token."""
        ...

    def revoke_subject(self, subject_id: UUID, now: datetime) -> None:
        """Use up every open token of the subject (a reset done: the other links die)."""
        ...


class Outbox(Protocol):
    """Mails to send (``adapters.postgres.mail_outbox.PostgresMailOutbox``)."""

    def enqueue(self, mail: Mail, now: datetime) -> None: ...


class PasswordResets:
    def __init__(
        self,
        accounts: Accounts,
        tokens: ResetTokens,
        outbox: Outbox,
        passwords: PasswordHashes,
        sessions: SessionStore,
        attempts: Attempts,
        clock: Clock,
        link: Callable[[str], str],
    ) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.outbox = outbox
        self.passwords = passwords
        self.sessions = sessions
        self.attempts = attempts
        self.clock = clock
        self.link = link
        """The address of the page that completes a reset, for a token."""

    def request(self, login: str, email: str) -> None:
        now = self.clock()
        user = self.accounts.find_user(login) if login.strip() else None
        if user is None or user.state is UserState.REMOVED or user.email.value is None:
            return
        if user.email.value.strip().casefold() != email.strip().casefold():
            return
        mails = f"reset-mail:{user.id}"
        if len(self.attempts.since(mails, now - timedelta(hours=1))) >= MAILS_PER_HOUR:
            return
        self.attempts.failed(mails, now)  # counts the mails sent, not failures
        token = secrets.token_urlsafe(32)
        self.tokens.create(token_hash(token), user.id, now + VALID_FOR)
        mail = letter(
            "password_reset",
            to=user.email.value,
            name=self._name(user),
            username=user.username,
            link=self.link(token),
            minutes=int(VALID_FOR.total_seconds() // 60),
        )
        self.outbox.enqueue(mail, now)

    def _name(self, user: User) -> str:
        if user.account_id is None:
            return user.username
        account = self.accounts.account(user.account_id)
        if account.first_name is None or account.last_name is None:
            return account.contact_name.shown()
        return f"{account.first_name.shown()} {account.last_name.shown()}"

    def complete(self, token: str, password: str) -> UUID:
        """Set the password the link was for; the user's id. The password is checked before
        the link is used up, and every other reset link of the user dies with it."""
        now = self.clock()
        hashed_token = token_hash(token)
        user_id = self.tokens.peek(hashed_token, now)
        if user_id is None:
            check_policy(password)  # a weak password is named before a dead link
            raise ResetTokenInvalidError()
        user = self.accounts.user(user_id)
        check_policy(password, username=user.username, email=user.email.value or "")
        hashed = self.passwords.hash(password)
        if self.tokens.take(hashed_token, now) is None:  # used meanwhile
            raise ResetTokenInvalidError()
        for attempt in range(SAVE_ATTEMPTS):
            user = self.accounts.user(user_id)
            user.change_password(hashed, "user:password-reset")
            user.unlock("user:password-reset")
            try:
                self.accounts.save(user)
                break
            except IntegrityError:
                if attempt == SAVE_ATTEMPTS - 1:
                    raise
        self.tokens.revoke_subject(user_id, now)
        self.sessions.revoke_user(user_id)
        return user_id
