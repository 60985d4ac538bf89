"""Staff users: the platform's own people (operator, support, finance), who sign in like
customers' users (always with two-factor sign-in) instead of sharing the configured keys.

``enrol`` records a staff user with an unusable password and answers a single-use link
(valid ``LINK_VALID``) to set one: the person who runs ``kontor staff add`` hands it over.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

from domain.accounts.application import Accounts
from domain.accounts.user import User, UserRole
from services.password_reset import ResetTokens
from services.ports import Clock
from services.signin import PasswordHashes, token_hash

LINK_VALID = timedelta(hours=24)


class StaffEnrolment:
    def __init__(
        self,
        accounts: Accounts,
        tokens: ResetTokens,
        passwords: PasswordHashes,
        clock: Clock,
        link: Callable[[str], str],
    ) -> None:
        self.accounts = accounts
        self.tokens = tokens
        self.passwords = passwords
        self.clock = clock
        self.link = link

    def enrol(self, username: str, email: str, role: UserRole, actor: str) -> tuple[User, str]:
        unusable = self.passwords.hash(secrets.token_urlsafe(32))  # nobody knows it
        user = self.accounts.add_staff(username, email, role, unusable, actor)
        token = secrets.token_urlsafe(32)
        self.tokens.create(token_hash(token), user.id, self.clock() + LINK_VALID)
        return user, self.link(token)
