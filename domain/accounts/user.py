"""Users: the people who sign in, each with a role, on a customer's account or on the staff.

A customer's user belongs to one account and has an account role: ``owner`` (everything,
users included), ``sender`` (lists, sends, replies), ``finance`` (balance, statements,
invoices, payments) or ``viewer`` (reads only). Staff users belong to no account and have a
staff role: ``operator``, ``support`` or ``finance``. API keys carry the same roles.

Invariants: a username and an e-mail address belong to one user (``Handle``: a second claim of
the same value, case-insensitive, collides on its id); only the Argon2id hash of a password is
kept, never the password; a removed user never signs in again. Sign-in failures count up:
after ``FREE_FAILURES`` each further try waits twice as long as the one before (from one
second), and after ``LOCK_AFTER`` the user is locked for ``LOCK_FOR`` unless the owner or
support unlocks them earlier; a sign-in that succeeds starts the count again. The e-mail is
personal data, sealed under the account's data key (a staff user's own).

Two-factor sign-in (TOTP): a secret is started, then enabled once a code from it is confirmed
(with ten recovery codes, kept as hashes); each 30-second step's code is used once
(``code_used`` refuses a replay), each recovery code once.

Events: ``Joined``, ``PasswordChanged``, ``SignInStarted``, ``SignInSetAside``, ``SignedIn``,
``SignInFailed``, ``Locked``, ``Unlocked``, ``RoleChanged``, ``Removed``, ``TwoFactorStarted``,
``TwoFactorEnabled``, ``TwoFactorDisabled``, ``CodeUsed``, ``RecoveryCodeUsed``.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.accounts.exceptions import InvalidRoleError, TwoFactorError, UserRemovedError
from domain.personal import PersonalData

HANDLE_NAMESPACE = UUID("a4f0d3c2-5b61-4e0f-9a57-0c2b1e7d9f33")
FREE_FAILURES = 3
"""Failed sign-ins in a row before each further try has to wait."""
LOCK_AFTER = 10
"""Failed sign-ins in a row that lock the user."""
LOCK_FOR = timedelta(minutes=30)
"""How long a lock lasts, and how long failures are remembered."""
TRYING_FOR = timedelta(seconds=10)
"""How long one sign-in may take to be checked before another of the same user may start."""


class UserRole(enum.StrEnum):
    OWNER = "owner"
    SENDER = "sender"
    FINANCE = "finance"
    VIEWER = "viewer"
    OPERATOR = "operator"
    SUPPORT = "support"


ACCOUNT_ROLES = frozenset({UserRole.OWNER, UserRole.SENDER, UserRole.FINANCE, UserRole.VIEWER})
STAFF_ROLES = frozenset({UserRole.OPERATOR, UserRole.SUPPORT, UserRole.FINANCE})


def check_role(role: UserRole, *, staff: bool) -> None:
    allowed = STAFF_ROLES if staff else ACCOUNT_ROLES
    if role not in allowed:
        names = ", ".join(sorted(r.value for r in allowed))
        where = "a staff user" if staff else "an account's user or key"
        raise InvalidRoleError(f"{where} has one of the roles {names}, not {role.value!r}")


class UserState(enum.StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class User(Aggregate):
    account_id: UUID | None
    role: UserRole
    username: str
    email: PersonalData
    password_hash: str
    state: UserState
    failures: int
    last_failure_at: datetime | None
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    totp_secret: PersonalData | None
    """The authenticator's secret once two-factor sign-in is on (sealed like the e-mail)."""
    totp_pending: PersonalData | None
    """A secret being set up: on once a code from it was confirmed."""
    totp_last_step: int
    recovery_hashes: list[str]
    trying_until: datetime | None
    """A sign-in of this user is being checked until then (one at a time: concurrent guesses
    would otherwise all pass the brake before any failure is counted)."""

    class Joined(Aggregate.Created):
        account_id: UUID | None
        role: UserRole
        username: str
        email: PersonalData
        password_hash: str
        actor: str

    @event(Joined)
    def __init__(
        self,
        account_id: UUID | None,
        role: UserRole,
        username: str,
        email: PersonalData,
        password_hash: str,
        actor: str,
    ) -> None:
        self.account_id = account_id
        self.role = role
        self.username = username
        self.email = email
        self.password_hash = password_hash
        self.state = UserState.ACTIVE
        self.failures = 0
        self.last_failure_at = None
        self.locked_until = None
        self.last_sign_in_at = None
        self.totp_secret = None
        self.totp_pending = None
        self.totp_last_step = 0
        self.recovery_hashes = []
        self.trying_until = None

    @property
    def staff(self) -> bool:
        return self.account_id is None

    # -- signing in ------------------------------------------------------------------------

    def wait_before_trying(self, now: datetime) -> float:
        """Seconds before a sign-in may be tried (0: now); a removed user never may."""
        if self.state is UserState.REMOVED:
            raise UserRemovedError(self.id)
        if self.locked_until is not None and now < self.locked_until:
            return math.ceil((self.locked_until - now).total_seconds())
        if self.trying_until is not None and now < self.trying_until:
            return 1.0  # another sign-in of this user is being checked
        if self.failures < FREE_FAILURES or self.last_failure_at is None:
            return 0.0
        if now - self.last_failure_at >= LOCK_FOR:
            return 0.0  # failures that long ago are forgotten (as for a name nobody has)
        pause = min(2.0 ** (self.failures - FREE_FAILURES), LOCK_FOR.total_seconds())
        due = self.last_failure_at + timedelta(seconds=pause)
        return max(0.0, math.ceil((due - now).total_seconds()))

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    class SignInStarted(Aggregate.Event):
        until: datetime

    def sign_in_started(self, now: datetime) -> None:
        """A sign-in is being checked: others wait (``TRYING_FOR`` at most, should it die)."""
        self._sign_in_started(now + TRYING_FOR)

    @event(SignInStarted)
    def _sign_in_started(self, until: datetime) -> None:
        self.trying_until = until

    class SignInSetAside(Aggregate.Event):
        """The sign-in being checked ended without a verdict (its second factor is asked for)."""

    def sign_in_set_aside(self) -> None:
        if self.trying_until is not None:
            self._sign_in_set_aside()

    @event(SignInSetAside)
    def _sign_in_set_aside(self) -> None:
        self.trying_until = None

    class SignInFailed(Aggregate.Event):
        at: datetime

    def sign_in_failed(self, now: datetime) -> None:
        self._sign_in_failed(now)
        if self.failures >= LOCK_AFTER and (self.locked_until is None or self.locked_until <= now):
            self._locked(now + LOCK_FOR, self.failures)

    @event(SignInFailed)
    def _sign_in_failed(self, at: datetime) -> None:
        if self.last_failure_at is not None and at - self.last_failure_at >= LOCK_FOR:
            self.failures = 0  # the earlier ones are forgotten
        self.failures += 1
        self.last_failure_at = at
        self.trying_until = None

    class Locked(Aggregate.Event):
        until: datetime
        failures: int

    @event(Locked)
    def _locked(self, until: datetime, failures: int) -> None:
        self.locked_until = until

    class Unlocked(Aggregate.Event):
        actor: str

    def unlock(self, actor: str) -> None:
        """Lift a lock and forget the failures (the owner's or support's decision)."""
        if self.locked_until is not None or self.failures:
            self._unlocked(actor)

    @event(Unlocked)
    def _unlocked(self, actor: str) -> None:
        self.locked_until = None
        self.failures = 0
        self.last_failure_at = None

    class SignedIn(Aggregate.Event):
        at: datetime
        session_id: UUID

    def signed_in(self, now: datetime, session_id: UUID) -> None:
        self._signed_in(now, session_id)

    @event(SignedIn)
    def _signed_in(self, at: datetime, session_id: UUID) -> None:
        self.failures = 0
        self.last_failure_at = None
        self.locked_until = None
        self.last_sign_in_at = at
        self.trying_until = None

    # -- two-factor sign-in ----------------------------------------------------------------

    @property
    def two_factor(self) -> bool:
        return self.totp_secret is not None

    class TwoFactorStarted(Aggregate.Event):
        secret: PersonalData

    def start_two_factor(self, secret: str) -> None:
        key = self.email.key_id  # the account's data key, or a staff user's own
        self._two_factor_started(PersonalData(key, secret))

    @event(TwoFactorStarted)
    def _two_factor_started(self, secret: PersonalData) -> None:
        self.totp_pending = secret

    class TwoFactorEnabled(Aggregate.Event):
        step: int
        recovery_hashes: list[str]

    def enable_two_factor(self, step: int, recovery_hashes: list[str]) -> None:
        """Turn it on with the pending secret, whose code of ``step`` was just confirmed."""
        if self.totp_pending is None:
            raise TwoFactorError("start setting up two-factor sign-in first")
        self._two_factor_enabled(step, list(recovery_hashes))

    @event(TwoFactorEnabled)
    def _two_factor_enabled(self, step: int, recovery_hashes: list[str]) -> None:
        self.totp_secret = self.totp_pending
        self.totp_pending = None
        self.totp_last_step = step
        self.recovery_hashes = recovery_hashes

    class TwoFactorDisabled(Aggregate.Event):
        actor: str

    def disable_two_factor(self, actor: str) -> None:
        if self.totp_secret is not None or self.totp_pending is not None:
            self._two_factor_disabled(actor)

    @event(TwoFactorDisabled)
    def _two_factor_disabled(self, actor: str) -> None:
        self.totp_secret = None
        self.totp_pending = None
        self.recovery_hashes = []

    class CodeUsed(Aggregate.Event):
        step: int

    def code_used(self, step: int) -> bool:
        """Note a code of ``step`` used; False when that step (or a later one) was used
        already (a replay)."""
        if step <= self.totp_last_step:
            return False
        self._code_used(step)
        return True

    @event(CodeUsed)
    def _code_used(self, step: int) -> None:
        self.totp_last_step = step

    class RecoveryCodeUsed(Aggregate.Event):
        code_hash: str

    def use_recovery_code(self, code_hash: str) -> bool:
        if code_hash not in self.recovery_hashes:
            return False
        self._recovery_code_used(code_hash)
        return True

    @event(RecoveryCodeUsed)
    def _recovery_code_used(self, code_hash: str) -> None:
        self.recovery_hashes = [h for h in self.recovery_hashes if h != code_hash]

    # -- changes ---------------------------------------------------------------------------

    class PasswordChanged(Aggregate.Event):
        password_hash: str
        actor: str

    def change_password(self, password_hash: str, actor: str) -> None:
        if self.state is UserState.REMOVED:
            raise UserRemovedError(self.id)
        self._password_changed(password_hash, actor)

    @event(PasswordChanged)
    def _password_changed(self, password_hash: str, actor: str) -> None:
        self.password_hash = password_hash

    class RoleChanged(Aggregate.Event):
        role: UserRole
        actor: str

    def change_role(self, role: UserRole, actor: str) -> None:
        check_role(role, staff=self.staff)
        if self.state is UserState.REMOVED:
            raise UserRemovedError(self.id)
        if role is not self.role:
            self._role_changed(role, actor)

    @event(RoleChanged)
    def _role_changed(self, role: UserRole, actor: str) -> None:
        self.role = role

    class Removed(Aggregate.Event):
        actor: str

    def remove(self, actor: str) -> None:
        if self.state is not UserState.REMOVED:
            self._removed(actor)

    @event(Removed)
    def _removed(self, actor: str) -> None:
        self.state = UserState.REMOVED


class HandleKind(enum.StrEnum):
    USERNAME = "username"
    EMAIL = "email"
    ACCOUNT_NUMBER = "number"


class Handle(Aggregate):
    """What a person signs in with (a username, an e-mail address, an account number), naming
    its user or account. Its id derives from the kind and the value (case-folded), so a second
    claim of the same value collides, and a sign-in finds the user without an index. The value
    itself is not kept (an e-mail address is personal data): only the id derived from it."""

    kind: HandleKind
    owner_id: UUID

    @staticmethod
    def id_for(kind: HandleKind, value: str) -> UUID:
        return uuid5(HANDLE_NAMESPACE, f"{kind.value}:{value.strip().casefold()}")

    class Claimed(Aggregate.Created):
        kind: HandleKind
        owner_id: UUID

    @event(Claimed)
    def __init__(self, id: UUID, kind: HandleKind, owner_id: UUID) -> None:
        self.kind = kind
        self.owner_id = owner_id
