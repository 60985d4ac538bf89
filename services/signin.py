"""Signing in: a person's password against their user, a server-side session, and its end.

``SignIn.sign_in`` takes what a person types (a username, an e-mail address or an account
number, and a password) and answers a new session, or one refusal for every way it can fail
(no such user, wrong password, removed user): the answer never tells whether the user exists,
and an unknown name costs the same Argon2 verification as a known one. Brute force meets two
brakes:

- per user (``domain.accounts.user``): after three failures in a row each try waits twice as
  long as the one before, after ten the user is locked for half an hour (its owner or support
  can lift that); a name nobody has is braked the same way by the attempts store, so the brake
  does not tell either;
- per client address: at most ``CLIENT_LIMIT`` failures in ``CLIENT_WINDOW``.

A refused try answers ``SignInRefusedError``; one that has to wait, ``SignInThrottledError``
with the seconds to wait (both the same for known and unknown names).

Sessions live in a store all API processes share (``adapters.postgres.sessions``). The
browser holds only a random token; the store keeps its SHA-256. A session ends after
``IDLE`` without a request, after ``ABSOLUTE`` in any case, when it is signed out or revoked,
and when its user is removed or resets the password. A session also carries a CSRF token that
state-changing requests authenticated by the session's cookie must echo in a header.

Client addresses are personal data: what is kept is a keyed digest (``ClientDigest``).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from adapters.crypto import totp
from domain.accounts.application import Accounts
from domain.accounts.session import StoredSession
from domain.accounts.user import FREE_FAILURES, LOCK_AFTER, LOCK_FOR, User, UserState
from services.ports import Clock

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
"""A session's last use is written at most this often (not on every request)."""
RECORD_ATTEMPTS = 50
"""Tries to record a sign-in's event while other sign-ins of the same user are recorded."""
CLIENT_WINDOW = timedelta(minutes=15)
CLIENT_LIMIT = 50
"""Failed sign-ins from one client address in ``CLIENT_WINDOW`` before it must wait."""


class SignInRefusedError(Exception):
    """The username, e-mail address or account number and the password do not match a user
    who may sign in (the same answer for every reason)."""

    def __init__(self) -> None:
        super().__init__("the sign-in name or the password is wrong")


class SignInThrottledError(Exception):
    """Too many failed sign-ins: try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")


class TwoFactorRequiredError(Exception):
    """The user signs in with a second factor: the code of their authenticator app (or a
    recovery code) goes with the password (``code``)."""

    def __init__(self) -> None:
        super().__init__("enter the code of your authenticator app (or a recovery code)")


class TwoFactorRefusedError(Exception):
    """The code was wrong, too old, or used already (each code works once)."""

    def __init__(self) -> None:
        super().__init__("the code is wrong or was used already")


class PasswordHashes(Protocol):
    """Argon2id hashing (``adapters.crypto.passwords.Passwords``)."""

    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str | None, password: str) -> bool: ...

    def needs_rehash(self, hashed: str) -> bool: ...


class SessionStore(Protocol):
    """Server-side sessions shared by every API process (``adapters.postgres.sessions``)."""

    def create(self, session: StoredSession) -> None: ...

    def find(self, token_hash: bytes) -> StoredSession | None:
        """The live (not revoked) session of a token, expired or not."""
        ...

    def touch(self, session_id: UUID, at: datetime) -> None: ...

    def of_user(self, user_id: UUID, now: datetime, idle: timedelta) -> Sequence[StoredSession]:
        """The user's sessions that have not ended, newest first."""
        ...

    def revoke(self, session_id: UUID, user_id: UUID) -> bool:
        """End one of the user's sessions; False when it had none of that id."""
        ...

    def revoke_user(self, user_id: UUID, keep: UUID | None = None) -> int:
        """End all the user's sessions but ``keep``; how many."""
        ...

    def setup_done(self, user_id: UUID) -> None:
        """The user set up two-factor sign-in: their sessions reach everything again."""
        ...

    def setup_needed(self, user_ids: Collection[UUID]) -> None:
        """Two-factor sign-in became required of these users, who have none: their sessions
        reach only its setup from now on."""
        ...


class Attempts(Protocol):
    """Failed sign-ins per key (a client digest, or a name nobody has), shared by every API
    process (``adapters.postgres.sessions.PostgresAttempts``)."""

    def failed(self, key: str, at: datetime) -> None: ...

    def since(self, key: str, since: datetime) -> Sequence[datetime]:
        """When the key failed after ``since``, oldest first."""
        ...


ClientDigest = Callable[[str], str]


@dataclass(frozen=True)
class NewSession:
    token: str
    """The secret the cookie carries: shown once, stored only as its hash."""
    session: StoredSession


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def wait_after(failures: Sequence[datetime], now: datetime) -> int:
    """Seconds a name with these failures in a row must wait (as a user's own brake)."""
    if len(failures) >= LOCK_AFTER:
        return max(0, math.ceil((failures[LOCK_AFTER - 1] + LOCK_FOR - now).total_seconds()))
    if len(failures) < FREE_FAILURES:
        return 0
    pause = min(2.0 ** (len(failures) - FREE_FAILURES), LOCK_FOR.total_seconds())
    due = failures[-1] + timedelta(seconds=pause)
    return max(0, math.ceil((due - now).total_seconds()))


class SignIn:
    def __init__(
        self,
        accounts: Accounts,
        sessions: SessionStore,
        attempts: Attempts,
        passwords: PasswordHashes,
        client_digest: ClientDigest,
        clock: Clock,
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.attempts = attempts
        self.passwords = passwords
        self.client_digest = client_digest
        self.clock = clock

    def sign_in(
        self,
        login: str,
        password: str,
        client: str,
        user_agent: str = "",
        code: str | None = None,
    ) -> NewSession:
        """A new session for the user ``login`` names (see the module docstring); a user with
        two-factor sign-in also gives the ``code`` of their app (or a recovery code)."""
        now = self.clock()
        client_key = "client:" + self.client_digest(client)
        self._brake_client(client_key, now)
        user = self._user(login)
        name_key = "name:" + self.client_digest("login:" + login.strip().casefold())
        if user is None:
            wait = wait_after(self.attempts.since(name_key, now - LOCK_FOR), now)
        else:
            wait = math.ceil(user.wait_before_trying(now))
        if wait > 0:
            raise SignInThrottledError(wait)
        if user is None:
            self.passwords.verify(None, password)  # the same cost as a known name's
            self.attempts.failed(name_key, now)
            self.attempts.failed(client_key, now)
            raise SignInRefusedError()
        # One sign-in of a user is checked at a time: guesses sent together would all pass the
        # brake before the first failure was counted.
        user.sign_in_started(now)
        try:
            self.accounts.save(user)
        except IntegrityError as exc:
            raise SignInThrottledError(1) from exc  # another one of this user just started
        if not self.passwords.verify(user.password_hash, password):
            self._record(user, lambda u: u.sign_in_failed(now))
            self.attempts.failed(client_key, now)
            raise SignInRefusedError()
        try:
            second = self._second_factor(user, code, now)
        except TwoFactorRequiredError:
            self._record(user, lambda u: u.sign_in_set_aside())
            raise
        rehashed = (
            self.passwords.hash(password)
            if self.passwords.needs_rehash(user.password_hash)
            else None
        )
        token = secrets.token_urlsafe(32)
        session = self._new_session(user, token, now, user_agent)

        def signed_in(current: User) -> None:
            if (
                current.state is not UserState.ACTIVE
                or current.role is not user.role
                or current.password_hash != user.password_hash
            ):  # removed, demoted or given a new password while this was checked
                raise SignInRefusedError()
            if rehashed is not None:
                current.change_password(rehashed, "system:rehash")
            if second is not None and not second(current):
                raise TwoFactorRefusedError()  # the same code went in meanwhile: a replay
            current.signed_in(now, session.session_id)

        self._record(user, signed_in)  # first: a replayed code opens no session
        self.sessions.create(session)
        now_user = self.accounts.user(user.id)
        if now_user.state is not UserState.ACTIVE or now_user.role is not user.role:
            # removed or demoted after the record and before the session: its end missed it
            self.sessions.revoke(session.session_id, user.id)
            raise SignInRefusedError()
        return NewSession(token, session)

    def _brake_client(self, client_key: str, now: datetime) -> None:
        failures = self.attempts.since(client_key, now - CLIENT_WINDOW)
        if len(failures) >= CLIENT_LIMIT:
            retry = failures[-CLIENT_LIMIT] + CLIENT_WINDOW - now
            raise SignInThrottledError(max(1, math.ceil(retry.total_seconds())))

    def _new_session(self, user: User, token: str, now: datetime, user_agent: str) -> StoredSession:
        return StoredSession(
            session_id=uuid4(),
            token_hash=token_hash(token),
            csrf_token=secrets.token_urlsafe(24),
            user_id=user.id,
            account_id=user.account_id,
            role=user.role,
            username=user.username,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE,
            user_agent=user_agent[:300],
            setup_required=not user.two_factor and self.two_factor_required(user),
        )

    def _record(self, user: User, change: Callable[[User], None]) -> None:
        """Record a sign-in's event on its user; when another sign-in of the same user was
        recorded meanwhile (two devices at once), on the user as it is now."""
        for attempt in range(RECORD_ATTEMPTS):
            current = user if attempt == 0 else self.accounts.user(user.id)
            change(current)
            try:
                self.accounts.save(current)
                return
            except IntegrityError as exc:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise SignInThrottledError(1) from exc

    def two_factor_required(self, user: User) -> bool:
        """Staff always sign in with a second factor; an account's users when its owner says."""
        if user.account_id is None:
            return True
        return self.accounts.account(user.account_id).two_factor_required

    def _second_factor(
        self, user: User, code: str | None, now: datetime
    ) -> Callable[[User], bool] | None:
        """For a user with two-factor sign-in: what records the code's use (a step used, a
        recovery code spent), refusing a code that is wrong (a failed sign-in) or missing."""
        if not user.two_factor or user.totp_secret is None:
            return None
        if not code or not code.strip():
            raise TwoFactorRequiredError()
        secret = user.totp_secret.value or ""
        step = totp.matching_step(secret, code, now)
        if step is not None and step > user.totp_last_step:
            return lambda current: current.code_used(step)
        recovery = totp.recovery_hash(code)
        if recovery in user.recovery_hashes:
            return lambda current: current.use_recovery_code(recovery)
        self._record(user, lambda u: u.sign_in_failed(now))
        raise TwoFactorRefusedError()

    def _user(self, login: str) -> User | None:
        if not login.strip():
            return None
        user = self.accounts.find_user(login)
        if user is None or user.state is UserState.REMOVED:
            return None
        return user

    def session(self, token: str) -> StoredSession | None:
        """The live session of a cookie's token (its last use noted), or None when it has
        ended."""
        stored = self.sessions.find(token_hash(token))
        now = self.clock()
        if stored is None or now >= stored.expires_at or now >= stored.last_seen_at + IDLE:
            return None
        if now - stored.last_seen_at >= TOUCH_EVERY:
            self.sessions.touch(stored.session_id, now)
        return stored

    def sessions_of(self, user_id: UUID) -> Sequence[StoredSession]:
        return self.sessions.of_user(user_id, self.clock(), IDLE)

    def sign_out(self, session_id: UUID, user_id: UUID) -> bool:
        return self.sessions.revoke(session_id, user_id)
