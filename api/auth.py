"""Authentication (API keys and sign-in sessions) and the role guards.

A request carries an API key as ``Authorization: Bearer kt_...`` (or ``X-API-Key``), or, from
the browser, the session cookie ``kontor_session`` that ``POST /v1/sessions`` set
(``services.signin``); a request with a key never looks at cookies. A state-changing request
authenticated by the cookie must carry its session's CSRF token in ``X-CSRF-Token`` (a
cross-site form can send the cookie, not the header); a key needs none.

Who may do what: every customer endpoint names what its writes need and what its reads need
(``for_customers``): ``Need.READ`` any account role, ``Need.SEND`` owner or sender,
``Need.FINANCE`` owner or finance, ``Need.OWNER`` the owner. Users and API keys have the same
roles (a key is created with one; keys made before roles existed are the owner's).

The key's prefix names its ``ApiKey`` aggregate; a verified key is cached in the process for a
few seconds, so a request costs a dict lookup and one HMAC (microseconds). Revoking a key evicts
it here at once and everywhere else within the cache time. The operator's and finance's keys for
automation are configured at deploy as hashes (``KONTOR_ADMIN_API_KEY_HASH``,
``KONTOR_FINANCE_API_KEY_HASH``), never stored and never held in plain text.
"""

from __future__ import annotations

import asyncio
import enum
import hmac
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from adapters.crypto import apikeys
from api.errors import ProblemError
from domain.accounts.api_key import Role
from domain.accounts.session import StoredSession
from domain.accounts.user import ACCOUNT_ROLES, UserRole
from services.signin import SignIn

CACHE_SECONDS = 5.0
SESSION_COOKIE = "kontor_session"
CSRF_COOKIE = "kontor_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SETUP_PATHS = ("/v1/account/me/two-factor", "/v1/sessions")
"""What a session that must set up two-factor sign-in first reaches."""
STAFF_SCOPES = {
    UserRole.OPERATOR: Role.ADMIN,
    UserRole.FINANCE: Role.FINANCE,
    UserRole.SUPPORT: Role.SUPPORT,
}
"""What a staff user's session may reach: the operator's, finance's or support's endpoints."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: a customer's account (a key or a signed-in user, with an account
    role), or the operator (admin) or finance."""

    role: Role
    account_id: UUID | None
    key_id: UUID | None
    prefix: str
    access: UserRole = UserRole.OWNER
    """The account role (a customer) or staff role (the operator, finance)."""
    user_id: UUID | None = None
    """The signed-in user (None: an API key)."""
    session_id: UUID | None = None

    @property
    def actor(self) -> str:
        """How events and logs name the caller (never the key itself)."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return f"{self.role.value}:{self.prefix}"

    @property
    def customer_account(self) -> UUID:
        if self.account_id is None:
            raise PermissionDeniedException("this endpoint is for customer keys")
        return self.account_id


@dataclass(frozen=True)
class _Cached:
    until: float
    principal: Principal
    digest: str


class Authenticator:
    def __init__(
        self,
        *,
        pepper: bytes,
        load_key: Any,
        admin_key: str | None,
        finance_key: str | None,
    ) -> None:
        """``admin_key``, ``finance_key``: the deploy keys' hashes (``apikeys.hashed``)."""
        self._pepper = pepper
        self._load_key = load_key
        self._cache: dict[str, _Cached] = {}
        self._deploy_keys: dict[str, tuple[str, Principal]] = {}
        deploy = (
            (Role.ADMIN, UserRole.OPERATOR, admin_key),
            (Role.FINANCE, UserRole.FINANCE, finance_key),
        )
        for role, access, key in deploy:
            if key:
                prefix, digest = apikeys.parse_hashed(key)
                principal = Principal(role, None, None, prefix, access)
                self._deploy_keys[prefix] = (digest, principal)

    def evict(self, prefix: str) -> None:
        self._cache.pop(prefix, None)

    async def authenticate(self, presented: str) -> Principal:
        try:
            prefix = apikeys.prefix_of(presented)
        except apikeys.MalformedApiKeyError as exc:
            raise NotAuthorizedException("the API key is malformed") from exc
        presented_digest = apikeys.digest(self._pepper, presented)
        deploy = self._deploy_keys.get(prefix)
        if deploy is not None:
            if hmac.compare_digest(deploy[0], presented_digest):
                return deploy[1]
            raise NotAuthorizedException("the API key is not valid")
        cached = self._cache.get(prefix)
        if cached is None or cached.until < time.monotonic():
            cached = await asyncio.to_thread(self._load, prefix)
            self._cache[prefix] = cached
        if not hmac.compare_digest(cached.digest, presented_digest):
            raise NotAuthorizedException("the API key is not valid")
        return cached.principal

    def _load(self, prefix: str) -> _Cached:
        try:
            key = self._load_key(prefix)
        except AggregateNotFoundError as exc:
            raise NotAuthorizedException("the API key is not valid") from exc
        if key.revoked:
            raise NotAuthorizedException("the API key has been revoked")
        principal = Principal(key.role, key.account_id, key.id, prefix, key.access)
        return _Cached(time.monotonic() + CACHE_SECONDS, principal, key.digest)


def session_principal(session: StoredSession) -> Principal:
    """The principal of a signed-in user's session."""
    if session.account_id is not None:
        role = Role.CUSTOMER
    elif session.role in STAFF_SCOPES:
        role = STAFF_SCOPES[session.role]
    else:
        raise PermissionDeniedException(f"a {session.role.value} user has no endpoints here")
    return Principal(
        role, session.account_id, None, f"user:{session.username}", session.role,
        session.user_id, session.session_id,
    )  # fmt: skip


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
        presented = presented or connection.headers.get("x-api-key", "").strip()
        if presented:
            authenticator: Authenticator = connection.app.state.authenticator
            principal = await authenticator.authenticate(presented)
            return AuthenticationResult(user=principal, auth=principal.prefix)
        token = connection.cookies.get(SESSION_COOKIE, "")
        if not token:
            raise NotAuthorizedException(
                "an API key (Authorization: Bearer <key>) or a signed-in session is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        signin: SignIn = connection.app.state.ctx.signin
        session = await asyncio.to_thread(signin.session, token)
        if session is None:
            raise NotAuthorizedException("the session has ended: sign in again")
        if connection.scope.get("method", "GET") not in SAFE_METHODS:
            echoed = connection.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(echoed.encode(), session.csrf_token.encode()):
                raise ProblemError(
                    403,
                    "csrf-token",
                    "CSRF token missing or wrong",
                    "a request signed in by cookie that changes something needs the session's"
                    " CSRF token in X-CSRF-Token",
                )
        if session.setup_required and not connection.scope["path"].startswith(SETUP_PATHS):
            raise ProblemError(
                403,
                "two-factor-setup-required",
                "Set up two-factor sign-in first",
                "two-factor sign-in is required: set it up at /v1/account/me/two-factor",
            )
        principal = session_principal(session)
        return AuthenticationResult(user=principal, auth=principal.prefix)


def _role_guard(*roles: Role) -> Any:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.scope.get("method") == "OPTIONS":
            # Litestar answers OPTIONS itself (204 with Allow, or the CORS pre-flight) without
            # authentication, as browsers send pre-flights without credentials: nothing to guard.
            return
        principal = connection.user
        if not isinstance(principal, Principal) or principal.role not in roles:
            raise PermissionDeniedException(
                f"this endpoint needs a key with role {' or '.join(r.value for r in roles)}"
            )

    guard.roles = frozenset(roles)  # type: ignore[attr-defined]
    return guard


class Need(enum.Enum):
    READ = frozenset(ACCOUNT_ROLES)
    SEND = frozenset({UserRole.OWNER, UserRole.SENDER})
    FINANCE = frozenset({UserRole.OWNER, UserRole.FINANCE})
    OWNER = frozenset({UserRole.OWNER})


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint: customers whose role its need names (``writes`` for a
    request that changes something, ``reads`` for GET and HEAD), and the staff roles
    ``staff`` names."""

    writes: Need
    reads: Need = Need.READ
    staff: frozenset[Role] = frozenset()
    users_only: bool = False
    staff_reads: frozenset[Role] = frozenset()
    """Staff roles that may read (GET) but not write."""
    """Only for signed-in users (their sessions), not for API keys."""

    def allows(self, principal: Principal, method: str) -> bool:
        if self.users_only and principal.user_id is None:
            return False
        if principal.role in self.staff:
            return True
        if principal.role in self.staff_reads and method in SAFE_METHODS:
            return True
        if principal.role is not Role.CUSTOMER:
            return False
        need = self.reads if method in SAFE_METHODS else self.writes
        return principal.access in need.value


def for_customers(
    writes: Need,
    reads: Need = Need.READ,
    *,
    staff: tuple[Role, ...] = (),
    users_only: bool = False,
    staff_reads: tuple[Role, ...] = (),
) -> Any:
    """The guard of a customer endpoint (see the module docstring); the guard carries its
    ``rule`` so that the role matrix can be read off the route table."""
    rule = Rule(writes, reads, frozenset(staff), users_only, frozenset(staff_reads))

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        method = str(connection.scope.get("method", "GET"))
        if method == "OPTIONS":
            return  # as in _role_guard
        principal = connection.user
        if not isinstance(principal, Principal) or not rule.allows(principal, method):
            if rule.users_only:
                raise PermissionDeniedException("this is for signed-in users, not API keys")
            need = rule.reads if method in SAFE_METHODS else rule.writes
            roles = " or ".join(sorted(r.value for r in need.value))
            raise PermissionDeniedException(f"this needs an account role {roles}")

    guard.rule = rule  # type: ignore[attr-defined]
    return guard


owner_writes = for_customers(Need.OWNER)
owner_only = for_customers(Need.OWNER, Need.OWNER)
"""The owner's alone, to read as to change: users, API keys."""
sender_writes = for_customers(Need.SEND)
finance_writes = for_customers(Need.FINANCE)
anyone_reads = for_customers(Need.READ, staff=(Role.ADMIN, Role.FINANCE, Role.SUPPORT))
customer_or_operator = for_customers(Need.SEND, staff=(Role.ADMIN,), staff_reads=(Role.SUPPORT,))
anyone_signed_in = for_customers(
    Need.READ, Need.READ, staff=(Role.ADMIN, Role.FINANCE, Role.SUPPORT), users_only=True
)
operator_or_support = _role_guard(Role.ADMIN, Role.SUPPORT)
customer_only = _role_guard(Role.CUSTOMER)
admin_only = _role_guard(Role.ADMIN)
finance_only = _role_guard(Role.FINANCE, Role.ADMIN)
customer_or_admin = _role_guard(Role.CUSTOMER, Role.ADMIN)
