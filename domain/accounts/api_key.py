"""API keys: the credential every request carries.

The secret is never stored: only an HMAC-SHA256 digest (peppered, computed at the edge) beside
a short public prefix that names the key. The key's aggregate id derives from that prefix, so a
request finds its key without any index. A key names its account and its role; revocation is
final. Consumed by the API's authentication.
"""

from __future__ import annotations

import enum
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.accounts.user import UserRole, check_role

API_KEY_NAMESPACE = UUID("5e0c8a1b-71a4-4d4e-9f0e-0f6a2a9e5d41")


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    FINANCE = "finance"
    SUPPORT = "support"
    """Staff who read every account and message and lift sign-in locks (signed-in staff
    users only: no key has this role)."""


class ApiKey(Aggregate):
    access: UserRole
    """A customer key's account role (``domain.accounts.user``); keys issued before roles
    existed are the owner's."""
    prefix: str
    digest: str
    account_id: UUID
    role: Role
    label: str
    revoked: bool

    @staticmethod
    def create_id(prefix: str) -> UUID:
        return uuid5(API_KEY_NAMESPACE, prefix)

    class Issued(Aggregate.Created):
        prefix: str
        digest: str
        account_id: UUID
        role: Role
        label: str

    @event(Issued)
    def __init__(self, prefix: str, digest: str, account_id: UUID, role: Role, label: str) -> None:
        self.prefix = prefix
        self.digest = digest
        self.account_id = account_id
        self.role = role
        self.label = label
        self.revoked = False
        self.access = UserRole.OWNER

    class AccessSet(Aggregate.Event):
        access: UserRole

    def set_access(self, access: UserRole) -> None:
        check_role(access, staff=False)
        if access is not self.access:
            self._access_set(access)

    @event(AccessSet)
    def _access_set(self, access: UserRole) -> None:
        self.access = access

    class Revoked(Aggregate.Event):
        actor: str

    def revoke(self, actor: str) -> None:
        if not self.revoked:
            self._revoked(actor)

    @event(Revoked)
    def _revoked(self, actor: str) -> None:
        self.revoked = True


class UsernameClaim(Aggregate):
    """Makes usernames unique: a second claim of the same name collides on its id."""

    account_id: UUID

    @staticmethod
    def create_id(username: str) -> UUID:
        return uuid5(API_KEY_NAMESPACE, "username:" + username.casefold())

    class Claimed(Aggregate.Created):
        username: str
        account_id: UUID

    @event(Claimed)
    def __init__(self, username: str, account_id: UUID) -> None:
        self.account_id = account_id
