"""API-key authentication and the role guards.

A request carries its key as ``Authorization: Bearer kt_...`` (or ``X-API-Key``). The key's
prefix names its ``ApiKey`` aggregate; a verified key is cached in the process for a few seconds,
so a request costs a dict lookup and one HMAC (microseconds). Revoking a key evicts it here at
once and everywhere else within the cache time. The operator's and finance's keys are
configured at deploy (``KONTOR_ADMIN_API_KEY``, ``KONTOR_FINANCE_API_KEY``) and never stored.
"""

from __future__ import annotations

import asyncio
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
from domain.accounts.api_key import Role

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: a customer's account, or the operator (admin) or finance."""

    role: Role
    account_id: UUID | None
    key_id: UUID | None
    prefix: str

    @property
    def actor(self) -> str:
        """How events and logs name the caller (never the key itself)."""
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
        self._pepper = pepper
        self._load_key = load_key
        self._cache: dict[str, _Cached] = {}
        self._deploy_keys: dict[str, tuple[str, Principal]] = {}
        for role, key in ((Role.ADMIN, admin_key), (Role.FINANCE, finance_key)):
            if key:
                prefix = apikeys.prefix_of(key)
                principal = Principal(role, None, None, prefix)
                self._deploy_keys[prefix] = (apikeys.digest(pepper, key), principal)

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
        principal = Principal(key.role, key.account_id, key.id, prefix)
        return _Cached(time.monotonic() + CACHE_SECONDS, principal, key.digest)


class ApiKeyMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        presented = header[7:].strip() if header.lower().startswith("bearer ") else ""
        presented = presented or connection.headers.get("x-api-key", "").strip()
        if not presented:
            raise NotAuthorizedException(
                "an API key is required: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        authenticator: Authenticator = connection.app.state.authenticator
        principal = await authenticator.authenticate(presented)
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

    return guard


customer_only = _role_guard(Role.CUSTOMER)
admin_only = _role_guard(Role.ADMIN)
finance_only = _role_guard(Role.FINANCE, Role.ADMIN)
customer_or_admin = _role_guard(Role.CUSTOMER, Role.ADMIN)
