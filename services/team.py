"""An account's users: the owner invites people by e-mail with a role, changes roles, removes
users and lifts sign-in locks; an invitee accepts with a username and password.

An invitation's link (valid ``INVITATION_VALID``, once) goes out by mail through the outbox,
and only its token's hash is kept. A role change or a removal ends the user's sessions at once
(their next request signs them out; they sign in again with the new role). The account keeps
an owner whatever happens (``domain.accounts.team``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from adapters.crypto.passwords import check_policy
from adapters.mail.letters import letter
from domain.accounts.account import Account, AccountKind
from domain.accounts.application import Accounts
from domain.accounts.exceptions import UsernameTakenError
from domain.accounts.team import INVITATION_VALID, Invitation, InvitationClosedError
from domain.accounts.user import User, UserRole
from services.password_reset import Outbox, ResetTokens
from services.ports import Clock
from services.signin import Attempts, PasswordHashes, SessionStore, token_hash

INVITATIONS_PER_HOUR = 20
"""Invitations one account sends an hour at most: they are mails to addresses of its choice."""


class InvitationLimitError(Exception):
    """An account sends at most 20 invitations an hour."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"at most {INVITATIONS_PER_HOUR} invitations an hour; try again later")


@dataclass(frozen=True)
class Members:
    users: list[User]
    invitations: list[Invitation]


class TeamService:
    def __init__(
        self,
        accounts: Accounts,
        tokens: ResetTokens,
        outbox: Outbox,
        passwords: PasswordHashes,
        sessions: SessionStore,
        clock: Clock,
        link: Callable[[str], str],
        attempts: Attempts | None = None,
    ) -> None:
        self.attempts = attempts
        """Counts the invitations an account sent (none: no limit)."""
        self.accounts = accounts
        self.tokens = tokens
        self.outbox = outbox
        self.passwords = passwords
        self.sessions = sessions
        self.clock = clock
        self.link = link
        """The address of the page that accepts an invitation, for a token."""

    def members(self, account_id: UUID) -> Members:
        team = self.accounts.team(account_id)
        users = sorted(
            (self.accounts.user(user_id) for user_id in team.members), key=lambda u: u.username
        )
        invitations = [self.accounts.invitation(i) for i in team.invitations]
        return Members(users, invitations)

    def invite(self, account_id: UUID, email: str, role: UserRole, actor: str) -> Invitation:
        now = self.clock()
        sent = f"invitations:{account_id}"
        if self.attempts is not None:
            recent = self.attempts.since(sent, now - timedelta(hours=1))
            if len(recent) >= INVITATIONS_PER_HOUR:
                retry = recent[-INVITATIONS_PER_HOUR] + timedelta(hours=1) - now
                raise InvitationLimitError(max(1, int(retry.total_seconds())))
            self.attempts.failed(sent, now)  # counts the invitations sent
        invitation = self.accounts.invite(account_id, email, role, actor, now)
        token = secrets.token_urlsafe(32)
        self.tokens.create(token_hash(token), invitation.id, invitation.expires_at)
        account = self.accounts.account(account_id)
        mail = letter(
            "invitation",
            to=email.strip(),
            company=account.company or account.contact_name.shown(),
            role=role.value,
            link=self.link(token),
            days=INVITATION_VALID.days,
        )
        self.outbox.enqueue(mail, now)
        return invitation

    def accept(self, token: str, username: str, password: str) -> User:
        """Join the account of the invitation the token is for (once). Everything that can be
        checked is checked before the link is used up: a typo does not cost the invitation."""
        now = self.clock()
        hashed_token = token_hash(token)
        invitation_id = self.tokens.peek(hashed_token, now)
        if invitation_id is None:
            raise InvitationClosedError("the link was used, has expired or is mistyped")
        invitation = self.accounts.invitation(invitation_id)
        invitation.check_open(now)
        email = invitation.email.value or ""
        Account.validate_registration(AccountKind.PERSON, None, "-", email, username)
        if self.accounts.username_taken(username):
            raise UsernameTakenError(username)
        check_policy(password, username=username, email=email)
        hashed = self.passwords.hash(password)
        if self.tokens.take(hashed_token, now) is None:  # used meanwhile
            raise InvitationClosedError("the link was used")
        return self.accounts.accept_invitation(invitation_id, username, hashed, now)

    def withdraw(self, account_id: UUID, invitation_id: UUID, actor: str) -> None:
        self.accounts.withdraw_invitation(account_id, invitation_id, actor)

    def change_role(self, account_id: UUID, user_id: UUID, role: UserRole, actor: str) -> User:
        before = self.accounts.user(user_id, account_id).role
        user = self.accounts.change_user_role(account_id, user_id, role, actor)
        if before is not role:
            self.sessions.revoke_user(user_id)
        return user

    def remove(self, account_id: UUID, user_id: UUID, actor: str) -> None:
        self.accounts.remove_user(account_id, user_id, actor)
        self.sessions.revoke_user(user_id)

    def unlock(self, account_id: UUID, user_id: UUID, actor: str) -> User:
        return self.accounts.unlock_user(account_id, user_id, actor)
