"""Setting up and turning off two-factor sign-in (TOTP) for a signed-in user, and the owner's
rule that every user of the account must use it.

``start`` makes a secret and shows it (as an ``otpauth://`` address and its QR code);
``confirm`` turns it on with a code from the app and answers ten recovery codes, shown this
once; the user's sessions that were waiting for the setup reach everything again. ``disable``
needs a current code (or a recovery code) and is refused while the account (or the staff)
requires two-factor sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from adapters.crypto import totp
from domain.accounts.application import Accounts
from domain.accounts.exceptions import TwoFactorError
from services.ports import Clock
from services.signin import SessionStore, SignIn, SignInThrottledError, TwoFactorRefusedError


@dataclass(frozen=True)
class Setup:
    secret: str
    address: str
    qr_svg: str


class TwoFactor:
    def __init__(
        self, accounts: Accounts, sessions: SessionStore, signin: SignIn, clock: Clock
    ) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.signin = signin
        self.clock = clock

    def start(self, user_id: UUID) -> Setup:
        user = self.accounts.user(user_id)
        if user.two_factor:
            raise TwoFactorError("two-factor sign-in is on already (turn it off first)")
        secret = totp.new_secret()
        user.start_two_factor(secret)
        self.accounts.save(user)
        uri = totp.address(secret, user.username)
        return Setup(secret, uri, totp.qr_svg(uri))

    def confirm(self, user_id: UUID, code: str) -> list[str]:
        user = self.accounts.user(user_id)
        if user.totp_pending is None or user.totp_pending.value is None:
            raise TwoFactorError("start setting up two-factor sign-in first")
        step = totp.matching_step(user.totp_pending.value, code, self.clock())
        if step is None:
            raise TwoFactorRefusedError()
        codes = totp.recovery_codes()
        user.enable_two_factor(step, [totp.recovery_hash(c) for c in codes])
        self.accounts.save(user)
        self.sessions.setup_done(user_id)
        return codes

    def disable(self, user_id: UUID, code: str, actor: str) -> None:
        user = self.accounts.user(user_id)
        if not user.two_factor or user.totp_secret is None:
            return
        if self.signin.two_factor_required(user):
            raise TwoFactorError("two-factor sign-in is required here and stays on")
        now = self.clock()
        wait = user.wait_before_trying(now)  # wrong codes here brake like failed sign-ins
        if wait > 0:
            raise SignInThrottledError(int(wait))
        secret = user.totp_secret.value or ""
        step = totp.matching_step(secret, code, now)
        valid = (step is not None and user.code_used(step)) or user.use_recovery_code(
            totp.recovery_hash(code)
        )
        if not valid:
            user.sign_in_failed(now)
            self.accounts.save(user)
            raise TwoFactorRefusedError()
        user.disable_two_factor(actor)
        self.accounts.save(user)

    def require(self, account_id: UUID, required: bool, actor: str) -> None:
        """Require two-factor sign-in of every user of the account (or no longer). The
        sessions of users without it reach only its setup from then on, as a new sign-in
        would, not until they end."""
        account = self.accounts.account(account_id)
        account.require_two_factor(required, actor)
        self.accounts.save(account)
        if required:
            members = self.accounts.team(account_id).members
            self.sessions.setup_needed([m for m in members if not self.accounts.user(m).two_factor])
