"""Two-factor sign-in: setup with a confirmed code, codes once each within one step of drift,
recovery codes, the owner's rule, and staff who always use it."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest

from domain.accounts.exceptions import TwoFactorError
from domain.accounts.user import User, UserRole
from domain.personal import PersonalData
from services.signin import TwoFactorRefusedError, TwoFactorRequiredError
from services.two_factor import TwoFactor
from tests.unit.services.test_signin import PASSWORD, World


class TwoFactorWorld(World):
    def __init__(self) -> None:
        super().__init__()
        self.owner = self.register("anna")
        self.two_factor = TwoFactor(self.apps.accounts, self.sessions, self.signin, self.clock)

    def code(self, secret: str, steps: int = 0) -> str:
        at = self.clock() + timedelta(seconds=30 * steps)
        return pyotp.TOTP(secret).at(at)

    def enable(self, user: User) -> tuple[str, list[str]]:
        setup = self.two_factor.start(user.id)
        assert setup.address.startswith("otpauth://totp/Kontor:")
        assert setup.qr_svg.lstrip().startswith("<svg")
        codes = self.two_factor.confirm(user.id, self.code(setup.secret))
        self.clock.advance(60)  # two steps on: the step before now is a new one too
        return setup.secret, codes


@pytest.fixture
def w() -> TwoFactorWorld:
    return TwoFactorWorld()


def test_setup_needs_a_code_from_the_new_secret(w: TwoFactorWorld) -> None:
    setup = w.two_factor.start(w.owner.id)
    with pytest.raises(TwoFactorRefusedError):
        w.two_factor.confirm(w.owner.id, "000000" if w.code(setup.secret) != "000000" else "1")
    codes = w.two_factor.confirm(w.owner.id, w.code(setup.secret))
    assert len(codes) == 10
    assert len(set(codes)) == 10
    user = w.user(w.owner)
    assert user.two_factor
    assert all(c not in h for c in codes for h in user.recovery_hashes)  # hashes only
    with pytest.raises(TwoFactorError):
        w.two_factor.start(w.owner.id)


def test_a_sign_in_needs_the_code_once_each_within_a_step_of_drift(w: TwoFactorWorld) -> None:
    secret, _ = w.enable(w.owner)
    with pytest.raises(TwoFactorRequiredError):
        w.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret, -1))
    with pytest.raises(TwoFactorRefusedError):  # the same code (its step) again: a replay
        w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret, -1))
    assert w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret))
    assert w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret, +1))
    w.clock.advance(300)
    with pytest.raises(TwoFactorRefusedError):  # two steps off
        w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret, -2))
    assert w.user(w.owner).failures == 1  # a wrong code is a failed sign-in


def test_a_recovery_code_works_once_instead_of_a_code(w: TwoFactorWorld) -> None:
    _, codes = w.enable(w.owner)
    assert w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=codes[3].upper())
    with pytest.raises(TwoFactorRefusedError):
        w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=codes[3])
    assert len(w.user(w.owner).recovery_hashes) == 9


def test_the_owners_rule_makes_new_sessions_set_it_up_first(w: TwoFactorWorld) -> None:
    assert w.owner.account_id is not None
    w.two_factor.require(w.owner.account_id, True, "user:owner")
    session = w.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert session.session.setup_required
    w.enable(w.owner)
    found = w.signin.session(session.token)
    assert found is not None
    assert not found.setup_required
    secret = w.user(w.owner).totp_secret
    assert secret is not None
    assert secret.value is not None
    with pytest.raises(TwoFactorError):  # required: it stays on
        w.two_factor.disable(w.owner.id, w.code(secret.value), "user:owner")


def test_the_owners_rule_reaches_sessions_already_open_at_once(w: TwoFactorWorld) -> None:
    assert w.owner.account_id is not None
    berta = w.register("berta")  # another account: not touched
    open_now = w.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    elsewhere = w.signin.sign_in("berta", PASSWORD, "192.0.2.1")
    assert not open_now.session.setup_required
    w.two_factor.require(w.owner.account_id, True, "user:owner")
    found = w.signin.session(open_now.token)
    assert found is not None
    assert found.setup_required  # not after 12 hours: now
    other = w.signin.session(elsewhere.token)
    assert other is not None
    assert not other.setup_required
    assert berta.account_id != w.owner.account_id


def test_a_user_who_has_it_keeps_their_sessions_whole_when_it_is_required(
    w: TwoFactorWorld,
) -> None:
    assert w.owner.account_id is not None
    secret, _ = w.enable(w.owner)
    signed_in = w.signin.sign_in("anna", PASSWORD, "192.0.2.1", code=w.code(secret))
    w.two_factor.require(w.owner.account_id, True, "user:owner")
    found = w.signin.session(signed_in.token)
    assert found is not None
    assert not found.setup_required


def test_it_is_turned_off_with_a_current_code(w: TwoFactorWorld) -> None:
    secret, _ = w.enable(w.owner)
    with pytest.raises(TwoFactorRefusedError):
        w.two_factor.disable(w.owner.id, "12345678", "user:owner")
    w.two_factor.disable(w.owner.id, w.code(secret), "user:owner")
    assert not w.user(w.owner).two_factor
    assert w.signin.sign_in("anna", PASSWORD, "192.0.2.1")


def test_staff_always_set_it_up(w: TwoFactorWorld) -> None:
    staff = User(
        account_id=None, role=UserRole.OPERATOR, username="olaf",
        email=PersonalData(w.owner.id, "olaf@kontor.example"),
        password_hash=w.passwords.hash(PASSWORD), actor="test",
    )  # fmt: skip
    w.apps.accounts.save(staff)
    assert w.signin.two_factor_required(staff)
    assert not w.signin.two_factor_required(w.owner)
