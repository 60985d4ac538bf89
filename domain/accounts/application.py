"""The Accounts application: registration, API keys, and the operator's and customer's changes.

Registration saves the account, its username claim and its first API key in one transaction;
a taken username collides on the claim's id and nothing is recorded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.accounts.account import (
    ACCOUNT_NUMBER,
    DEFAULT_REVIEW_THRESHOLD,
    Account,
    AccountKind,
    AccountState,
    Module,
    Salutation,
    account_number,
)
from domain.accounts.api_key import ApiKey, Role, UsernameClaim
from domain.accounts.callbacks import Callbacks, checked_emails, checked_url, new_secret
from domain.accounts.contract import Contract, Limits
from domain.accounts.exceptions import (
    ApiKeyNotFoundError,
    EmailTakenError,
    UsernameTakenError,
    UserNotFoundError,
)
from domain.accounts.key_chain import KeyChain
from domain.accounts.team import INVITATION_VALID, Invitation, Team
from domain.accounts.user import Handle, HandleKind, User, UserRole, UserState, check_role
from domain.base import KontorApplication
from domain.personal import PersonalData
from domain.tariff import Tariff

CHAIN_ATTEMPTS = 3
"""Tries of a key change whose account's key chain another request changed meanwhile."""
NUMBER_ATTEMPTS = 8
"""Account numbers drawn before a registration gives up (each collision is one in 900,000
times the share of numbers taken)."""


def random_account_number() -> int:
    return 100_000 + secrets.randbelow(900_000)


@dataclass(frozen=True)
class Owner:
    """The person who registers an account: its first user (role owner) and its profile."""

    salutation: Salutation
    first_name: str
    last_name: str
    street: str
    postcode: str
    city: str
    country: str
    phone: str
    """E.164, parsed at the edge."""
    password_hash: str
    terms_version: str
    privacy_version: str


class Accounts(KontorApplication):
    def register(
        self,
        *,
        kind: AccountKind,
        company: str | None,
        contact_name: str,
        email: str,
        username: str,
        tariff: Tariff,
        contract: Contract,
        key_prefix: str,
        key_digest: str,
        account_id: UUID | None = None,
        review_threshold: int = DEFAULT_REVIEW_THRESHOLD,
        owner: Owner | None = None,
        numbers: Callable[[], int] = random_account_number,
    ) -> UUID:
        """Save the account, its username claim and first API key; with ``owner``, also its
        owner user, profile and account number, and the handles the owner signs in with (the
        username and e-mail address, case-insensitive, and the account number): one
        transaction. A number someone else drew first is drawn again."""
        Account.validate_registration(kind, company, contact_name, email, username)
        contract.validate()
        new_id = account_id or uuid4()
        account = Account(
            kind=kind,
            company=company.strip() if company else None,
            contact_name=PersonalData(new_id, contact_name.strip()),
            email=PersonalData(new_id, email.strip()),
            username=username,
            contract=contract,
            tariff=tariff,
            review_threshold=review_threshold,
            id=new_id,
        )
        claim = UsernameClaim(username=username, account_id=account.id)
        key = ApiKey(
            prefix=key_prefix,
            digest=key_digest,
            account_id=account.id,
            role=Role.CUSTOMER,
            label="first key",
        )
        chain = KeyChain(account_id=account.id, live=[key.id])
        if owner is None:
            try:
                self.save(account, claim, key, chain)
            except IntegrityError as exc:
                if UsernameClaim.create_id(username) in self.repository:
                    raise UsernameTakenError(username) from exc
                raise
            return account.id
        for attempt in range(NUMBER_ATTEMPTS):
            # Built again for each try: a failed save has taken the aggregates' new events.
            number = account_number(numbers())
            user, by_name, by_email = self._person(
                new_id, UserRole.OWNER, username, PersonalData(new_id, email.strip()),
                owner.password_hash, "registration",
            )  # fmt: skip
            numbered = Account(
                kind=account.kind, company=account.company, contact_name=account.contact_name,
                email=account.email, username=username, contract=contract, tariff=tariff,
                review_threshold=review_threshold, id=new_id,
            )  # fmt: skip
            numbered.record_profile(
                number=number, owner_id=user.id, salutation=owner.salutation,
                first_name=owner.first_name, last_name=owner.last_name, street=owner.street,
                postcode=owner.postcode, city=owner.city, country=owner.country,
                phone=owner.phone, terms_version=owner.terms_version,
                privacy_version=owner.privacy_version,
            )  # fmt: skip
            by_number = Handle(id=Handle.id_for(HandleKind.ACCOUNT_NUMBER, number),
                               kind=HandleKind.ACCOUNT_NUMBER, owner_id=new_id)  # fmt: skip
            key = ApiKey(prefix=key_prefix, digest=key_digest, account_id=new_id,
                         role=Role.CUSTOMER, label="first key")  # fmt: skip
            aggregates = [
                numbered, UsernameClaim(username=username, account_id=new_id), key,
                KeyChain(account_id=new_id, live=[key.id]), user, by_name, by_email, by_number,
                Team(account_id=new_id, members={user.id: UserRole.OWNER}),
            ]  # fmt: skip
            try:
                self.save(*aggregates)
                return new_id
            except IntegrityError as exc:
                self._refuse_taken(username, email, exc)
                if by_number.id not in self.repository or attempt == NUMBER_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def account(self, account_id: UUID) -> Account:
        account: Account = self.repository.get(account_id)
        return account

    def user(self, user_id: UUID, account_id: UUID | None = None) -> User:
        """The user; with ``account_id``, only one of that account's."""
        try:
            user: User = self.repository.get(user_id)
        except AggregateNotFoundError as exc:
            raise UserNotFoundError(f"no user {user_id}") from exc
        if not isinstance(user, User) or (account_id is not None and user.account_id != account_id):
            raise UserNotFoundError(f"no user {user_id}")
        return user

    def find_user(self, login: str) -> User | None:
        """The user a sign-in names: by username, e-mail address or account number (whose
        owner it is); None when nobody has it."""
        login = login.strip()
        if ACCOUNT_NUMBER.match(login.upper()):
            handle = self._handle(HandleKind.ACCOUNT_NUMBER, login.upper())
            if handle is None:
                return None
            owner_id = self.account(handle.owner_id).owner_id
            return None if owner_id is None else self.user(owner_id)
        kind = HandleKind.EMAIL if "@" in login else HandleKind.USERNAME
        handle = self._handle(kind, login)
        return None if handle is None else self.user(handle.owner_id)

    # -- the account's users ---------------------------------------------------------------

    def team(self, account_id: UUID) -> Team:
        """The account's users; for an account registered before teams, its owner (or nobody,
        for one registered before people: it is reached with keys only)."""
        try:
            team: Team = self.repository.get(Team.create_id(account_id))
            return team
        except AggregateNotFoundError:
            owner = self.account(account_id).owner_id
            members = {} if owner is None else {owner: UserRole.OWNER}
            return Team(account_id=account_id, members=members)

    def invite(
        self, account_id: UUID, email: str, role: UserRole, actor: str, now: datetime
    ) -> Invitation:
        """Invite an e-mail address to the account with a role (an address some user has
        already is refused: ``EmailTakenError``)."""
        check_role(role, staff=False)
        Account.validate_registration(AccountKind.PERSON, None, "-", email, "invitee")
        if Handle.id_for(HandleKind.EMAIL, email) in self.repository:
            raise EmailTakenError()
        for attempt in range(CHAIN_ATTEMPTS):
            # Built again for each try: a failed save has taken the aggregates' new events.
            invitation = Invitation(
                account_id=account_id, email=PersonalData(account_id, email.strip()), role=role,
                invited_by=actor, expires_at=now + INVITATION_VALID,
            )  # fmt: skip
            team = self.team(account_id)
            team.invited(invitation.id)
            try:
                self.save(invitation, team)
                return invitation
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def invitation(self, invitation_id: UUID) -> Invitation:
        invitation: Invitation = self.repository.get(invitation_id)
        return invitation

    def accept_invitation(
        self, invitation_id: UUID, username: str, password_hash: str, now: datetime
    ) -> User:
        """The invitee joins under ``username``: the user, its handles, the team and the
        invitation, one transaction."""
        for attempt in range(CHAIN_ATTEMPTS):
            # Built again for each try: a failed save has taken the aggregates' new events.
            invitation = self.invitation(invitation_id)
            invitation.check_open(now)
            email = invitation.email.value or ""
            Account.validate_registration(AccountKind.PERSON, None, "-", email, username)
            user, by_name, by_email = self._person(
                invitation.account_id, invitation.role, username,
                PersonalData(invitation.account_id, email), password_hash,
                f"invitation:{invitation.id}",
            )  # fmt: skip
            team = self.team(invitation.account_id)
            team.join(user.id, invitation.role)
            team.invitation_closed(invitation.id)
            invitation.accept(user.id, now)
            try:
                self.save(user, by_name, by_email, team, invitation)
                return user
            except IntegrityError as exc:
                self._refuse_taken(username, email, exc)
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def withdraw_invitation(self, account_id: UUID, invitation_id: UUID, actor: str) -> None:
        def change() -> list[Aggregate]:
            invitation = self.invitation(invitation_id)
            if invitation.account_id != account_id:
                raise UserNotFoundError(f"no invitation {invitation_id}")
            team = self.team(account_id)
            invitation.withdraw(actor)
            team.invitation_closed(invitation_id)
            return [invitation, team]

        self._save_retrying(change)

    def change_user_role(self, account_id: UUID, user_id: UUID, role: UserRole, actor: str) -> User:
        def change() -> list[Aggregate]:
            user = self.user(user_id, account_id)
            team = self.team(account_id)
            team.change_role(user_id, role, actor)
            user.change_role(role, actor)
            return [user, team]

        return self._save_retrying(change)[0]  # type: ignore[return-value]

    def remove_user(self, account_id: UUID, user_id: UUID, actor: str) -> User:
        def change() -> list[Aggregate]:
            user = self.user(user_id, account_id)
            team = self.team(account_id)
            team.remove(user_id, actor)
            user.remove(actor)
            return [user, team]

        return self._save_retrying(change)[0]  # type: ignore[return-value]

    def unlock_user(self, account_id: UUID | None, user_id: UUID, actor: str) -> User:
        user = self.user(user_id, account_id)
        if user.state is UserState.REMOVED:
            return user
        user.unlock(actor)
        self.save(user)
        return user

    def add_staff(
        self, username: str, email: str, role: UserRole, password_hash: str, actor: str
    ) -> User:
        """A staff user (operator, support or finance) with the handles they sign in with."""
        check_role(role, staff=True)
        Account.validate_registration(AccountKind.PERSON, None, "-", email, username)
        user, by_name, by_email = self._person(
            None, role, username, PersonalData(uuid4(), email.strip()),  # a key of their own
            password_hash, actor,
        )  # fmt: skip
        try:
            self.save(user, by_name, by_email)
        except IntegrityError as exc:
            self._refuse_taken(username, email, exc)
            raise
        return user

    @staticmethod
    def _person(
        account_id: UUID | None, role: UserRole, username: str, email: PersonalData,
        password_hash: str, actor: str,
    ) -> tuple[User, Handle, Handle]:  # fmt: skip
        """A new user and the handles they sign in with (their username and e-mail)."""
        user = User(
            account_id=account_id, role=role, username=username, email=email,
            password_hash=password_hash, actor=actor,
        )  # fmt: skip
        by_name = Handle(id=Handle.id_for(HandleKind.USERNAME, username),
                         kind=HandleKind.USERNAME, owner_id=user.id)  # fmt: skip
        by_email = Handle(id=Handle.id_for(HandleKind.EMAIL, email.value or ""),
                          kind=HandleKind.EMAIL, owner_id=user.id)  # fmt: skip
        return user, by_name, by_email

    def _refuse_taken(self, username: str, email: str, exc: IntegrityError) -> None:
        """After a refused save: raise the taken username's or e-mail's error, if either is."""
        if self.username_taken(username):
            raise UsernameTakenError(username) from exc
        if Handle.id_for(HandleKind.EMAIL, email) in self.repository:
            raise EmailTakenError() from exc

    def _save_retrying(self, change: Callable[[], list[Aggregate]]) -> list[Aggregate]:
        """Save what ``change`` made of the aggregates as they are; again, on them as they are
        then, when another request changed one meanwhile."""
        for attempt in range(CHAIN_ATTEMPTS):
            changed = change()
            try:
                self.save(*changed)
                return changed
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def username_taken(self, username: str) -> bool:
        return (
            Handle.id_for(HandleKind.USERNAME, username) in self.repository
            or UsernameClaim.create_id(username) in self.repository
        )

    def _handle(self, kind: HandleKind, value: str) -> Handle | None:
        try:
            handle: Handle = self.repository.get(Handle.id_for(kind, value))
        except AggregateNotFoundError:
            return None
        return handle

    def api_key(self, prefix: str) -> ApiKey:
        key: ApiKey = self.repository.get(ApiKey.create_id(prefix))
        return key

    def issue_api_key(
        self,
        account_id: UUID,
        *,
        prefix: str,
        digest: str,
        label: str,
        role: Role = Role.CUSTOMER,
        access: UserRole = UserRole.OWNER,
    ) -> UUID:
        self.account(account_id)  # the account must exist
        for attempt in range(CHAIN_ATTEMPTS):
            # Built again for each try: a failed save has taken the key's new events.
            key = ApiKey(
                prefix=prefix, digest=digest, account_id=account_id, role=role, label=label
            )
            key.set_access(access)
            chain = self.key_chain(account_id)
            chain.add(key.id)
            try:
                self.save(key, chain)
                break
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise
        return key.id

    def revoke_api_key(self, account_id: UUID, key_id: UUID, actor: str) -> None:
        """Revoke one of the account's keys; refused for its last live one
        (``LastApiKeyError``), also when two revocations race for the last two."""
        for attempt in range(CHAIN_ATTEMPTS):
            try:
                key: ApiKey = self.repository.get(key_id)
            except AggregateNotFoundError as exc:
                raise ApiKeyNotFoundError(f"no API key {key_id} on this account") from exc
            if key.account_id != account_id:
                raise ApiKeyNotFoundError(f"no API key {key_id} on this account")
            chain = self.key_chain(account_id)
            chain.remove(key_id)
            key.revoke(actor)
            try:
                self.save(key, chain)
                return
            except IntegrityError:
                if attempt == CHAIN_ATTEMPTS - 1:
                    raise

    def key_chain(self, account_id: UUID) -> KeyChain:
        """The account's live keys; for an account registered before chains existed, built
        from its keys' events (once: the caller saves it)."""
        chain_id = KeyChain.create_id(account_id)
        try:
            chain: KeyChain = self.repository.get(chain_id)
            return chain
        except AggregateNotFoundError:
            pass
        issued = get_topic(ApiKey.Issued)
        live: list[UUID] = []
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(
                start, 1000, topics=[issued], inclusive_of_start=False
            )
            for notification in page:
                issued_event = self.mapper.to_domain_event(notification)
                if getattr(issued_event, "account_id", None) == account_id:
                    key: ApiKey = self.repository.get(issued_event.originator_id)
                    if not key.revoked:
                        live.append(key.id)
            if len(page) < 1000:
                break
            start = page[-1].id
        return KeyChain(account_id=account_id, live=live)

    def change_limits(
        self, account_id: UUID, limits: Limits, actor: str, *, by_operator: bool
    ) -> Account:
        account = self.account(account_id)
        account.change_limits(limits, actor, by_operator=by_operator)
        self.save(account)
        return account

    def change_callbacks(
        self,
        account_id: UUID,
        *,
        reply_url: str | None,
        reply_emails: list[str],
        status_url: str | None,
        status_every_state: bool,
        actor: str,
    ) -> Account:
        """Where the account's replies and status changes go (replacing what it had); raises
        ``InvalidCallbackError``."""
        account = self.account(account_id)
        emails = checked_emails(reply_emails)
        account.change_callbacks(
            Callbacks(
                reply_url=checked_url(reply_url, "reply_url"),
                reply_emails=PersonalData(account_id, ",".join(emails)) if emails else None,
                status_url=checked_url(status_url, "status_url"),
                status_every_state=status_every_state,
            ),
            actor,
        )
        self.save(account)
        return account

    def rotate_webhook_secret(
        self, account_id: UUID, at: datetime, actor: str
    ) -> tuple[Account, str]:
        """A new webhook secret, shown this once; the previous one keeps signing for a day."""
        account = self.account(account_id)
        secret = new_secret()
        account.rotate_webhook_secret(secret, at, actor)
        self.save(account)
        return account, secret

    def change_stop_words(self, account_id: UUID, words: frozenset[str], actor: str) -> Account:
        """The account's own STOP words (replacing those it had)."""
        account = self.account(account_id)
        account.change_stop_words(words, actor)
        self.save(account)
        return account

    def administer(
        self,
        account_id: UUID,
        *,
        actor: str,
        state: AccountState | None = None,
        reason: str = "",
        tariff: Tariff | None = None,
        contract: Contract | None = None,
        modules: frozenset[Module] | None = None,
        blocked_senders: frozenset[str] | None = None,
        review_threshold: int | None = None,
    ) -> Account:
        """An operator's change of state, tariff, contract, modules or blocked senders."""
        account = self.account(account_id)
        if state is not None:
            account.change_state(state, reason, actor)
        if tariff is not None:
            account.change_tariff(tariff, actor)
        if contract is not None:
            account.change_contract(contract, actor)
        if modules is not None:
            account.change_modules(modules, actor)
        if blocked_senders is not None:
            account.change_blocked_senders(blocked_senders, actor)
        if review_threshold is not None:
            account.change_review_threshold(review_threshold, actor)
        self.save(account)
        return account

    def give_notice(self, account_id: UUID, given_on: date, actor: str) -> date:
        account = self.account(account_id)
        ends_on = account.give_notice(given_on, actor)
        self.save(account)
        return ends_on
