"""An account's users and their roles, and the invitations that bring new ones.

``Team``: one per account (its id derives from the account's), saved in the same transaction
as every user who joins, changes role or is removed, so that two owners demoting each other at
once meet on its version and the account always keeps an owner. ``Invitation``: the owner's
invitation of an e-mail address with a role; the invitee accepts it once, choosing a username
and password, within ``INVITATION_VALID``; the owner may withdraw it before.

Events: Team ``Formed``, ``MemberJoined``, ``RoleChanged``, ``MemberRemoved``,
``InvitationSent``, ``InvitationClosed``; Invitation
``Invited``, ``Accepted``, ``Withdrawn``.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.accounts.exceptions import AccountError
from domain.accounts.user import UserRole, check_role
from domain.personal import PersonalData

TEAM_NAMESPACE = UUID("7c1d9e3a-2f4b-4c8d-9e6f-1a2b3c4d5e6f")
INVITATION_VALID = timedelta(days=7)


class LastOwnerError(AccountError):
    """An account keeps at least one owner: the last one is neither demoted nor removed
    (make another user owner first)."""

    def __init__(self) -> None:
        super().__init__("the account's last owner cannot be demoted or removed")


class InvitationClosedError(AccountError):
    """An invitation is accepted once, within seven days, unless it was withdrawn."""

    def __init__(self, why: str) -> None:
        super().__init__(f"this invitation cannot be used: {why}")


class Team(Aggregate):
    account_id: UUID
    members: dict[UUID, UserRole]
    invitations: list[UUID]
    """The open invitations."""

    @staticmethod
    def create_id(account_id: UUID) -> UUID:
        return uuid5(TEAM_NAMESPACE, str(account_id))

    class Formed(Aggregate.Created):
        account_id: UUID
        members: dict[UUID, UserRole]

    @event(Formed)
    def __init__(self, account_id: UUID, members: dict[UUID, UserRole]) -> None:
        self.account_id = account_id
        self.members = dict(members)
        self.invitations = []

    class InvitationSent(Aggregate.Event):
        invitation_id: UUID

    def invited(self, invitation_id: UUID) -> None:
        self._invitation_sent(invitation_id)

    @event(InvitationSent)
    def _invitation_sent(self, invitation_id: UUID) -> None:
        self.invitations.append(invitation_id)

    class InvitationClosed(Aggregate.Event):
        invitation_id: UUID

    def invitation_closed(self, invitation_id: UUID) -> None:
        if invitation_id in self.invitations:
            self._invitation_closed(invitation_id)

    @event(InvitationClosed)
    def _invitation_closed(self, invitation_id: UUID) -> None:
        self.invitations.remove(invitation_id)

    @property
    def owners(self) -> set[UUID]:
        return {u for u, r in self.members.items() if r is UserRole.OWNER}

    class MemberJoined(Aggregate.Event):
        user_id: UUID
        role: UserRole

    def join(self, user_id: UUID, role: UserRole) -> None:
        check_role(role, staff=False)
        self._member_joined(user_id, role)

    @event(MemberJoined)
    def _member_joined(self, user_id: UUID, role: UserRole) -> None:
        self.members[user_id] = role

    class RoleChanged(Aggregate.Event):
        user_id: UUID
        role: UserRole
        actor: str

    def change_role(self, user_id: UUID, role: UserRole, actor: str) -> None:
        check_role(role, staff=False)
        if self.members.get(user_id) is role:
            return
        if self.owners == {user_id} and role is not UserRole.OWNER:
            raise LastOwnerError()
        self._role_changed(user_id, role, actor)

    @event(RoleChanged)
    def _role_changed(self, user_id: UUID, role: UserRole, actor: str) -> None:
        self.members[user_id] = role

    class MemberRemoved(Aggregate.Event):
        user_id: UUID
        actor: str

    def remove(self, user_id: UUID, actor: str) -> None:
        if user_id not in self.members:
            return
        if self.owners == {user_id}:
            raise LastOwnerError()
        self._member_removed(user_id, actor)

    @event(MemberRemoved)
    def _member_removed(self, user_id: UUID, actor: str) -> None:
        del self.members[user_id]


class InvitationState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"


class Invitation(Aggregate):
    account_id: UUID
    email: PersonalData
    role: UserRole
    invited_by: str
    expires_at: datetime
    state: InvitationState
    user_id: UUID | None

    class Invited(Aggregate.Created):
        account_id: UUID
        email: PersonalData
        role: UserRole
        invited_by: str
        expires_at: datetime

    @event(Invited)
    def __init__(
        self,
        account_id: UUID,
        email: PersonalData,
        role: UserRole,
        invited_by: str,
        expires_at: datetime,
    ) -> None:
        self.account_id = account_id
        self.email = email
        self.role = role
        self.invited_by = invited_by
        self.expires_at = expires_at
        self.state = InvitationState.OPEN
        self.user_id = None

    def check_open(self, now: datetime) -> None:
        if self.state is not InvitationState.OPEN:
            raise InvitationClosedError(f"it was {self.state.value}")
        if now >= self.expires_at:
            raise InvitationClosedError("it expired")

    class Accepted(Aggregate.Event):
        user_id: UUID

    def accept(self, user_id: UUID, now: datetime) -> None:
        self.check_open(now)
        self._accepted(user_id)

    @event(Accepted)
    def _accepted(self, user_id: UUID) -> None:
        self.state = InvitationState.ACCEPTED
        self.user_id = user_id

    class Withdrawn(Aggregate.Event):
        actor: str

    def withdraw(self, actor: str) -> None:
        if self.state is InvitationState.OPEN:
            self._withdrawn(actor)

    @event(Withdrawn)
    def _withdrawn(self, actor: str) -> None:
        self.state = InvitationState.WITHDRAWN
