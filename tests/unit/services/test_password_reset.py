"""Password reset: the same answer whoever asks, one mail with a single-use link, and its use."""

from __future__ import annotations

import re

import pytest

from adapters.crypto.passwords import WeakPasswordError
from services.password_reset import (
    MAILS_PER_HOUR,
    VALID_FOR,
    PasswordResets,
    ResetTokenInvalidError,
)
from services.signin import SignInRefusedError
from tests.fakes.sessions import MemoryOutbox, MemoryResetTokens
from tests.unit.services.test_signin import PASSWORD, World

NEW = "Regenschirm-Kaktus-9"


class Resets:
    def __init__(self) -> None:
        self.world = World()
        self.owner = self.world.register("anna", "Anna@Example.de")
        self.outbox = MemoryOutbox()
        self.tokens = MemoryResetTokens()
        w = self.world
        self.resets = PasswordResets(
            w.apps.accounts, self.tokens, self.outbox, w.passwords, w.sessions, w.attempts,
            w.clock, link=lambda token: f"https://sms.example.de/reset-password#token={token}",
        )  # fmt: skip

    def token(self) -> str:
        (mail,) = self.outbox.mails[-1:]
        found = re.search(r"#token=([\w-]+)", mail.text)
        assert found is not None
        return found.group(1)


@pytest.fixture
def r() -> Resets:
    return Resets()


def test_a_matching_name_and_address_get_one_mail_with_a_link(r: Resets) -> None:
    r.resets.request("anna", "anna@example.DE")
    (mail,) = r.outbox.mails
    assert mail.to == "Anna@Example.de"
    assert "Kennwort" in mail.subject
    assert "password" in mail.subject
    assert "Guten Tag Anna Müller" in mail.text
    assert "Hello Anna Müller" in mail.text
    token = r.token()
    assert f"#token={token}" in mail.html
    assert "30 Minuten" in mail.text
    assert "30 minutes" in mail.text
    assert PASSWORD not in mail.text
    assert r.owner.password_hash not in mail.text
    assert r.tokens.tokens  # kept as a hash only
    assert all(token.encode() not in h for h in r.tokens.tokens)


@pytest.mark.parametrize(
    ("login", "email"),
    [("anna", "other@example.de"), ("nobody", "anna@example.de"), ("", "anna@example.de")],
)
def test_a_mismatch_sends_nothing_and_answers_the_same(r: Resets, login: str, email: str) -> None:
    r.resets.request(login, email)
    assert r.outbox.mails == []


def test_the_account_number_names_the_owner_too(r: Resets) -> None:
    number = r.world.apps.accounts.account(r.owner.account_id).number  # type: ignore[arg-type]
    r.resets.request(number or "", "anna@example.de")
    assert len(r.outbox.mails) == 1


def test_at_most_three_mails_an_hour_go_to_one_user(r: Resets) -> None:
    for _ in range(MAILS_PER_HOUR + 2):
        r.resets.request("anna", "anna@example.de")
    assert len(r.outbox.mails) == MAILS_PER_HOUR
    r.world.clock.advance(3601)
    r.resets.request("anna", "anna@example.de")
    assert len(r.outbox.mails) == MAILS_PER_HOUR + 1


def test_the_link_sets_the_password_once_and_ends_every_session(r: Resets) -> None:
    session = r.world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    r.resets.request("anna", "anna@example.de")
    token = r.token()
    assert r.resets.complete(token, NEW) == r.owner.id
    assert r.world.signin.session(session.token) is None
    with pytest.raises(SignInRefusedError):
        r.world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert r.world.signin.sign_in("anna", NEW, "192.0.2.1")
    with pytest.raises(ResetTokenInvalidError):
        r.resets.complete(token, "Zweites-Kennwort-7")  # used


def test_an_expired_or_mistyped_link_is_refused(r: Resets) -> None:
    r.resets.request("anna", "anna@example.de")
    token = r.token()
    with pytest.raises(ResetTokenInvalidError):
        r.resets.complete(token[:-2], NEW)
    r.world.clock.advance(VALID_FOR.total_seconds() + 1)
    with pytest.raises(ResetTokenInvalidError):
        r.resets.complete(token, NEW)


def test_a_weak_new_password_is_refused_and_the_link_still_works(r: Resets) -> None:
    r.resets.request("anna", "anna@example.de")
    token = r.token()
    with pytest.raises(WeakPasswordError):
        r.resets.complete(token, "passwort123")
    r.resets.complete(token, NEW)


def test_a_reset_lifts_a_lock_from_guessing(r: Resets) -> None:
    user = r.world.user(r.owner)
    for _ in range(10):
        user.sign_in_failed(r.world.clock())
    r.world.apps.accounts.save(user)
    assert r.world.user(r.owner).locked
    r.resets.request("anna", "anna@example.de")
    r.resets.complete(r.token(), NEW)
    assert not r.world.user(r.owner).locked
    assert r.world.signin.sign_in("anna", NEW, "192.0.2.1")


def test_a_password_like_the_username_is_refused_before_the_link_is_spent(r: Resets) -> None:
    r.resets.request("anna", "anna@example.de")
    token = r.token()
    with pytest.raises(WeakPasswordError):
        r.resets.complete(token, "Anna@Example.de")
    r.resets.complete(token, NEW)


def test_the_other_links_of_the_hour_die_with_a_reset(r: Resets) -> None:
    r.resets.request("anna", "anna@example.de")
    first = r.token()
    r.resets.request("anna", "anna@example.de")
    second = r.token()
    r.resets.complete(second, NEW)
    with pytest.raises(ResetTokenInvalidError):
        r.resets.complete(first, "Noch-ein-Kennwort-3")
