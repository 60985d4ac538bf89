"""An account's users: invitations by mail, joining once, roles, removal, and the last owner."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.crypto.passwords import WeakPasswordError
from domain.accounts.exceptions import (
    EmailTakenError,
    InvalidRegistrationError,
    UsernameTakenError,
    UserNotFoundError,
)
from domain.accounts.team import INVITATION_VALID, InvitationClosedError, LastOwnerError
from domain.accounts.user import UserRole, UserState
from domain.ledger.lots import PaymentMethod
from services.account_history import AccountHistory
from services.signin import SignInRefusedError
from services.team import INVITATIONS_PER_HOUR, InvitationLimitError, TeamService
from tests.fakes.sending import FakeSendsActedOn
from tests.fakes.sessions import MemoryOutbox, MemoryResetTokens
from tests.unit.services.test_signin import PASSWORD, World

JOINER = "Gartenzwerg-Laterne-5"


class Team:
    def __init__(self) -> None:
        self.world = World()
        self.owner = self.world.register("anna")
        assert self.owner.account_id is not None
        self.account = self.owner.account_id
        self.outbox = MemoryOutbox()
        w = self.world
        self.team = TeamService(
            w.apps.accounts, MemoryResetTokens(), self.outbox, w.passwords, w.sessions,
            w.clock, link=lambda token: f"https://sms.example.de/accept-invitation#token={token}",
            attempts=w.attempts,
        )  # fmt: skip

    def token(self) -> str:
        found = re.search(r"#token=([\w-]+)", self.outbox.mails[-1].text)
        assert found is not None
        return found.group(1)

    def join(self, username: str, email: str, role: UserRole) -> UUID:
        self.team.invite(self.account, email, role, "user:owner")
        return self.team.accept(self.token(), username, JOINER).id


@pytest.fixture
def t() -> Team:
    return Team()


def test_an_invitee_gets_a_mail_and_joins_once_with_the_role(t: Team) -> None:
    invitation = t.team.invite(t.account, "ben@example.de", UserRole.SENDER, "user:owner")
    (mail,) = t.outbox.mails
    assert mail.to == "ben@example.de"
    assert "Einladung" in mail.subject
    assert "Invitation" in mail.subject
    assert "sender" in mail.text
    assert "7 Tage" in mail.text
    assert [i.id for i in t.team.members(t.account).invitations] == [invitation.id]
    token = t.token()
    joined = t.team.accept(token, "ben", JOINER)
    assert (joined.role, joined.account_id) == (UserRole.SENDER, t.account)
    members = t.team.members(t.account)
    assert [u.username for u in members.users] == ["anna", "ben"]
    assert members.invitations == []
    with pytest.raises(InvitationClosedError):
        t.team.accept(token, "ben2", JOINER)
    session = t.world.signin.sign_in("ben@example.de", JOINER, "192.0.2.1").session
    assert (session.role, session.account_id) == (UserRole.SENDER, t.account)


def test_an_invitation_expires_or_is_withdrawn(t: Team) -> None:
    first = t.team.invite(t.account, "c@example.de", UserRole.VIEWER, "user:owner")
    token = t.token()
    t.team.withdraw(t.account, first.id, "user:owner")
    with pytest.raises(InvitationClosedError, match="withdrawn"):
        t.team.accept(token, "cara", JOINER)
    t.team.invite(t.account, "d@example.de", UserRole.VIEWER, "user:owner")
    late = t.token()
    t.world.clock.advance((INVITATION_VALID + timedelta(seconds=1)).total_seconds())
    with pytest.raises(InvitationClosedError):
        t.team.accept(late, "dora", JOINER)


def test_a_taken_address_or_username_is_refused(t: Team) -> None:
    with pytest.raises(EmailTakenError):
        t.team.invite(t.account, "ANNA@example.de", UserRole.SENDER, "user:owner")
    t.team.invite(t.account, "e@example.de", UserRole.SENDER, "user:owner")
    with pytest.raises(UsernameTakenError):
        t.team.accept(t.token(), "Anna", JOINER)


def test_a_role_change_or_removal_ends_the_users_sessions(t: Team) -> None:
    ben = t.join("ben", "ben@example.de", UserRole.SENDER)
    session = t.world.signin.sign_in("ben", JOINER, "192.0.2.1")
    t.team.change_role(t.account, ben, UserRole.VIEWER, "user:owner")
    assert t.world.signin.session(session.token) is None
    again = t.world.signin.sign_in("ben", JOINER, "192.0.2.1")
    assert again.session.role is UserRole.VIEWER
    t.team.remove(t.account, ben, "user:owner")
    assert t.world.signin.session(again.token) is None
    assert t.world.apps.accounts.user(ben).state is UserState.REMOVED
    with pytest.raises(SignInRefusedError):
        t.world.signin.sign_in("ben", JOINER, "192.0.2.1")
    assert [u.username for u in t.team.members(t.account).users] == ["anna"]


def test_the_account_keeps_an_owner(t: Team) -> None:
    with pytest.raises(LastOwnerError):
        t.team.change_role(t.account, t.owner.id, UserRole.SENDER, "user:owner")
    with pytest.raises(LastOwnerError):
        t.team.remove(t.account, t.owner.id, "user:owner")
    ben = t.join("ben", "ben@example.de", UserRole.OWNER)
    t.team.change_role(t.account, t.owner.id, UserRole.FINANCE, "user:ben")
    with pytest.raises(LastOwnerError):
        t.team.remove(t.account, ben, "user:ben")


def test_another_accounts_user_is_not_found(t: Team) -> None:
    other = t.world.register("zora")
    with pytest.raises(UserNotFoundError):
        t.team.change_role(t.account, other.id, UserRole.VIEWER, "user:owner")
    with pytest.raises(UserNotFoundError):
        t.team.remove(t.account, other.id, "user:owner")


def test_the_owner_lifts_a_lock(t: Team) -> None:
    ben = t.join("ben", "ben@example.de", UserRole.SENDER)
    user = t.world.apps.accounts.user(ben)
    for _ in range(10):
        user.sign_in_failed(t.world.clock())
    t.world.apps.accounts.save(user)
    assert t.team.unlock(t.account, ben, "user:owner").locked is False
    assert t.world.signin.sign_in("ben", JOINER, "192.0.2.1")
    assert t.world.signin.sign_in("anna", PASSWORD, "192.0.2.1")


def account_history(t: Team) -> AccountHistory:
    apps = t.world.apps
    return AccountHistory(apps.accounts, apps.ledger, apps.messaging, FakeSendsActedOn())


def test_the_history_shows_the_credit_staff_booked_and_by_whom(t: Team) -> None:
    apps = t.world.apps
    apps.ledger.purchase(t.account, net=10_000, vat=1_900, method=PaymentMethod.PAYPAL,
                         reference="P-9", package="SMS 100", actor="user:staff-1",
                         now=t.world.clock(), expires_at=None)  # fmt: skip
    history = account_history(t).entries(t.account, personal=False)
    entries = [(e.subject, e.event, e.actor) for e in history]
    assert ("wallet", "CreditPurchased", "user:staff-1") in entries


def test_the_history_shows_who_did_what_and_hides_secrets(t: Team) -> None:
    ben = t.join("ben", "ben@example.de", UserRole.SENDER)
    t.team.change_role(t.account, ben, UserRole.VIEWER, "user:anna")
    history = account_history(t)
    for_owner = history.entries(t.account, personal=True)
    events = [(e.subject, e.event, e.actor) for e in for_owner]
    assert ("account", "Registered", None) in events
    assert ("team", "RoleChanged", "user:anna") in events
    assert ("user:ben", "RoleChanged", "user:anna") in events
    assert [e.at for e in for_owner] == sorted(e.at for e in for_owner)
    shown = repr([e.details for e in for_owner])
    assert "ben@example.de" in shown  # the owner sees the personal data
    assert "argon2" not in shown  # never a password hash
    for_staff = repr([e.details for e in history.entries(t.account, personal=False)])
    assert "ben@example.de" not in for_staff
    assert "[redacted]" in for_staff


def test_an_invitation_made_again_after_a_conflict_is_whole(t: Team) -> None:
    accounts = t.world.apps.accounts
    real = accounts.save
    conflicts = [True]

    def conflict_once(*aggregates: object, **kwargs: object) -> object:
        if conflicts:
            conflicts.pop()  # another owner's change of the team went in first
            for aggregate in aggregates:
                aggregate.collect_events()  # type: ignore[attr-defined]
            raise IntegrityError("team version taken")
        return real(*aggregates, **kwargs)  # type: ignore[arg-type]

    accounts.save = conflict_once  # type: ignore[method-assign,assignment]
    invitation = t.team.invite(t.account, "ben@example.de", UserRole.SENDER, "user:owner")
    accounts.save = real  # type: ignore[method-assign]
    assert [i.id for i in t.team.members(t.account).invitations] == [invitation.id]
    assert t.team.accept(t.token(), "ben", JOINER).role is UserRole.SENDER


def test_a_typo_at_acceptance_does_not_cost_the_invitation(t: Team) -> None:
    t.team.invite(t.account, "ben@example.de", UserRole.SENDER, "user:owner")
    token = t.token()
    with pytest.raises(UsernameTakenError):
        t.team.accept(token, "ANNA", JOINER)
    with pytest.raises(InvalidRegistrationError):
        t.team.accept(token, "ben maier", JOINER)
    with pytest.raises(WeakPasswordError):
        t.team.accept(token, "ben", "ben@example.de")
    assert t.team.accept(token, "ben", JOINER).username == "ben"


def test_an_account_sends_at_most_twenty_invitations_an_hour(t: Team) -> None:
    for n in range(INVITATIONS_PER_HOUR):
        t.team.invite(t.account, f"p{n}@example.de", UserRole.VIEWER, "user:owner")
    with pytest.raises(InvitationLimitError):
        t.team.invite(t.account, "late@example.de", UserRole.VIEWER, "user:owner")
    t.world.clock.advance(3601)
    t.team.invite(t.account, "late@example.de", UserRole.VIEWER, "user:owner")
