"""People: registering an owner, signing in, the brakes on guessing, sessions and their end."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from adapters.crypto.passwords import FAST, Passwords, WeakPasswordError, check_policy
from domain.accounts.account import AccountKind, Salutation
from domain.accounts.contract import Contract
from domain.accounts.exceptions import EmailTakenError, InvalidRegistrationError, UsernameTakenError
from domain.accounts.user import LOCK_AFTER, LOCK_FOR, Handle, HandleKind, User, UserRole
from domain.tariff import Tariff
from services.registration import (
    NewApiKey,
    OwnerForm,
    RegistrationForm,
    Registrations,
    Trial,
    Versions,
)
from services.signin import (
    ABSOLUTE,
    CLIENT_LIMIT,
    IDLE,
    SignIn,
    SignInRefusedError,
    SignInThrottledError,
)
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sessions import MemoryAttempts, MemorySessions

PASSWORD = "Sonnenblume-Tasse-42"
VERSIONS = Versions("2026-12", "2026-12")
OWNER = OwnerForm(
    salutation=Salutation.FRAU, first_name="Anna", last_name="Müller", street="Hauptstraße 1",
    postcode="10115", city="Berlin", country="de", phone="030 1234567", password=PASSWORD,
    accepted_terms="2026-12", accepted_privacy="2026-12",
)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    def __init__(self) -> None:
        self.apps: MemoryApps = memory_apps()
        self.clock = Clock()
        self.passwords = Passwords(FAST)
        self.sessions = MemorySessions()
        self.attempts = MemoryAttempts()
        self.registrations = Registrations(
            self.apps.accounts, self.apps.ledger, Trial(10_000, timedelta(days=90)),
            passwords=self.passwords, versions=VERSIONS,
        )  # fmt: skip
        self.signin = SignIn(
            self.apps.accounts, self.sessions, self.attempts, self.passwords,
            lambda address: "digest-" + address, self.clock,
        )  # fmt: skip
        self.keys = 0

    def register(self, username: str = "anna", email: str | None = None, **owner: object) -> User:
        self.keys += 1
        form = RegistrationForm(
            AccountKind.PERSON, "Anna Müller", email or f"{username}@example.de", username, None,
            Tariff.QUALITY, replace(OWNER, **owner),  # type: ignore[arg-type]
        )  # fmt: skip
        key = NewApiKey(f"kt_s{self.keys}", f"p{self.keys}", f"d{self.keys}")
        registered = self.registrations.register(form, key, self.clock())
        account = self.apps.accounts.account(registered.account_id)
        assert account.owner_id is not None
        return self.apps.accounts.user(account.owner_id)

    def user(self, user: User) -> User:
        return self.apps.accounts.user(user.id)


@pytest.fixture
def world() -> World:
    return World()


# -- registering the owner -------------------------------------------------------------------


def test_the_registering_person_becomes_the_owner_with_a_number_and_a_hash(world: World) -> None:
    owner = world.register()
    account = world.apps.accounts.account(owner.account_id)  # type: ignore[arg-type]
    assert owner.role is UserRole.OWNER
    assert owner.username == "anna"
    assert owner.password_hash.startswith("$argon2id$")
    assert PASSWORD not in owner.password_hash
    assert account.number is not None
    assert account.number.startswith("K-")
    assert account.phone is not None
    assert account.phone.value == "+49301234567"
    assert account.country == "DE"
    assert account.terms_version == "2026-12"
    assert world.apps.accounts.find_user(account.number) == owner
    assert world.apps.accounts.find_user("ANNA@Example.DE") == owner
    assert world.apps.accounts.find_user(" Anna ") == owner
    assert world.apps.accounts.find_user("nobody") is None


def test_username_and_email_are_unique_whatever_their_case(world: World) -> None:
    world.register("anna", "anna@example.de")
    with pytest.raises(UsernameTakenError):
        world.register("ANNA", "other@example.de")
    with pytest.raises(EmailTakenError):
        world.register("berta", "Anna@EXAMPLE.de")
    world.register("berta", "berta@example.de")  # nothing of the refused ones stayed


def test_a_number_someone_else_drew_is_drawn_again(world: World) -> None:
    drawn = iter([123456, 123456, 234567])
    accounts = world.apps.accounts
    owner = world.registrations.owner(
        RegistrationForm(AccountKind.PERSON, "A B", "a@example.de", "aaa", None, Tariff.QUALITY,
                         OWNER)
    )  # fmt: skip
    numbers = []
    for name in ("first", "second"):
        account_id = accounts.register(
            kind=AccountKind.PERSON, company=None, contact_name="A B",
            email=f"{name}@example.de", username=name, tariff=Tariff.QUALITY,
            contract=Contract.prepaid(world.clock().date()), key_prefix=name, key_digest="d",
            owner=owner, numbers=lambda: next(drawn),
        )  # fmt: skip
        numbers.append(accounts.account(account_id).number)
    assert numbers == ["K-123456", "K-234567"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"accepted_terms": "2025-01"}, "terms"),
        ({"accepted_privacy": ""}, "privacy"),
        ({"postcode": "1011"}, "postcode"),
        ({"country": "Deutschland"}, "country"),
        ({"phone": "12"}, "phone"),
        ({"first_name": " "}, "first_name"),
        ({"street": ""}, "street"),
    ],
)
def test_an_incomplete_or_unaccepted_registration_is_refused(
    world: World, change: dict[str, str], says: str
) -> None:
    with pytest.raises(InvalidRegistrationError, match=says):
        world.register(**change)
    assert world.apps.accounts.find_user("anna") is None


@pytest.mark.parametrize(
    "password", ["short", "passwort123", "Password1234", "anna@example.de", "ANNA@example.de"]
)
def test_weak_passwords_are_refused(world: World, password: str) -> None:
    with pytest.raises(WeakPasswordError):
        world.register(password=password)


def test_the_policy_names_its_rule() -> None:
    with pytest.raises(WeakPasswordError, match="10 characters"):
        check_policy("kurz")
    with pytest.raises(WeakPasswordError, match="username"):
        check_policy("anna.mueller", username="Anna.Mueller")
    with pytest.raises(WeakPasswordError, match="256"):
        check_policy("x" * 257)
    check_policy("Tasse-Sonnenblume-7")


# -- signing in ------------------------------------------------------------------------------


def test_a_sign_in_by_username_email_or_number_opens_a_session(world: World) -> None:
    owner = world.register()
    number = world.apps.accounts.account(owner.account_id).number  # type: ignore[arg-type]
    for login in ("anna", "ANNA@example.de", number):
        new = world.signin.sign_in(login, PASSWORD, "192.0.2.1", "Firefox")  # type: ignore[arg-type]
        session = world.signin.session(new.token)
        assert session is not None
        assert session.user_id == owner.id
        assert session.role is UserRole.OWNER
        assert session.account_id == owner.account_id
        assert session.token_hash != new.token.encode()
        assert len(session.csrf_token) >= 24
    assert len(world.signin.sessions_of(owner.id)) == 3
    assert world.user(owner).last_sign_in_at == world.clock()


def test_every_refusal_reads_the_same_and_costs_a_verification(world: World) -> None:
    world.register()
    verified: list[str | None] = []
    check = world.passwords.verify

    def counting(hashed: str | None, password: str) -> bool:
        verified.append(hashed)
        return check(hashed, password)

    world.passwords.verify = counting  # type: ignore[method-assign]
    messages = set()
    for login, password in (("anna", "wrong-password"), ("nobody", PASSWORD), ("", PASSWORD)):
        with pytest.raises(SignInRefusedError) as refused:
            world.signin.sign_in(login, password, "192.0.2.1")
        messages.add(str(refused.value))
    assert len(messages) == 1
    assert len(verified) == 3  # a name nobody has is verified against a dummy hash


def test_failures_double_the_wait_then_lock_until_unlocked(world: World) -> None:
    owner = world.register()
    for _ in range(3):  # free
        with pytest.raises(SignInRefusedError):
            world.signin.sign_in("anna", "wrong-password", "192.0.2.1")
    waits = []
    for _ in range(LOCK_AFTER - 3):
        with pytest.raises(SignInThrottledError) as throttled:
            world.signin.sign_in("anna", PASSWORD, "192.0.2.1")  # even the right one waits
        waits.append(throttled.value.retry_after)
        world.clock.advance(throttled.value.retry_after)
        with pytest.raises(SignInRefusedError):
            world.signin.sign_in("anna", "wrong-password", "192.0.2.1")
    assert waits == [1, 2, 4, 8, 16, 32, 64]
    assert world.user(owner).locked
    with pytest.raises(SignInThrottledError) as locked:
        world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert locked.value.retry_after == LOCK_FOR.total_seconds()
    user = world.user(owner)
    user.unlock("user:owner")
    world.apps.accounts.save(user)
    assert world.signin.sign_in("anna", PASSWORD, "192.0.2.1").session.user_id == owner.id
    assert world.user(owner).failures == 0


def test_a_name_nobody_has_is_braked_like_a_user(world: World) -> None:
    waits = []
    for _ in range(5):
        try:
            world.signin.sign_in("ghost", "wrong-password", "192.0.2.1")
        except SignInRefusedError:
            waits.append(0)
        except SignInThrottledError as throttled:
            waits.append(throttled.retry_after)
            world.clock.advance(throttled.retry_after)
    assert waits == [0, 0, 0, 1, 0]


def test_one_client_address_may_fail_only_so_often(world: World) -> None:
    world.register()
    for n in range(CLIENT_LIMIT):
        with pytest.raises(SignInRefusedError):
            world.signin.sign_in(f"name{n}", "wrong-password", "198.51.100.7")
    with pytest.raises(SignInThrottledError):
        world.signin.sign_in("anna", PASSWORD, "198.51.100.7")
    assert world.signin.sign_in("anna", PASSWORD, "192.0.2.1")  # another address may


def test_a_removed_user_cannot_sign_in(world: World) -> None:
    owner = world.register()
    user = world.user(owner)
    user.remove("user:someone")
    world.apps.accounts.save(user)
    with pytest.raises(SignInRefusedError):
        world.signin.sign_in("anna", PASSWORD, "192.0.2.1")


def test_a_hash_of_old_parameters_is_replaced_at_sign_in(world: World) -> None:
    owner = world.register()
    stronger = Passwords(replace(FAST, time_cost=2))
    world.signin.passwords = stronger
    world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    rehashed = world.user(owner).password_hash
    assert rehashed != owner.password_hash
    assert not stronger.needs_rehash(rehashed)


# -- sessions --------------------------------------------------------------------------------


def test_a_session_ends_when_idle_or_at_its_absolute_end(world: World) -> None:
    world.register()
    idle = world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    busy = world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    for _ in range(int(ABSOLUTE / (IDLE / 2)) - 1):
        world.clock.advance((IDLE / 2).total_seconds())
        assert world.signin.session(busy.token) is not None
    assert world.signin.session(idle.token) is None
    world.clock.advance((IDLE / 2).total_seconds())
    assert world.signin.session(busy.token) is None  # used all along, but twelve hours old


def test_signing_out_ends_only_that_session_and_only_for_its_user(world: World) -> None:
    owner = world.register()
    other = world.register("berta")
    first = world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    second = world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert not world.signin.sign_out(first.session.session_id, other.id)
    assert world.signin.sign_out(first.session.session_id, owner.id)
    assert world.signin.session(first.token) is None
    assert world.signin.session(second.token) is not None


def test_handles_keep_no_value_only_the_id_derived_from_it(world: World) -> None:
    owner = world.register(email="Anna.Private@example.de")
    handle: Handle = world.apps.accounts.repository.get(
        Handle.id_for(HandleKind.EMAIL, "anna.private@EXAMPLE.de")
    )
    assert handle.owner_id == owner.id
    assert "private" not in repr(vars(handle)).lower()


def test_guesses_sent_together_are_checked_one_at_a_time(world: World) -> None:
    owner = world.register()
    found_before = world.apps.accounts.user(owner.id)  # this try found the user first
    with pytest.raises(SignInRefusedError):
        world.signin.sign_in("anna", "wrong-password", "192.0.2.1")  # the other went in
    world.apps.accounts.find_user = lambda login: found_before  # type: ignore[method-assign]
    with pytest.raises(SignInThrottledError) as waits:
        world.signin.sign_in("anna", PASSWORD, "192.0.2.2")
    assert waits.value.retry_after == 1


def test_a_try_in_progress_makes_the_next_wait_until_it_is_decided(world: World) -> None:
    owner = world.register()
    user = world.user(owner)
    user.sign_in_started(world.clock())  # another process is checking one right now
    world.apps.accounts.save(user)
    with pytest.raises(SignInThrottledError):
        world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    world.clock.advance(10)  # that process died: its try expires
    assert world.signin.sign_in("anna", PASSWORD, "192.0.2.1")


def test_a_user_removed_while_signing_in_gets_no_session(world: World) -> None:
    owner = world.register()
    accounts = world.apps.accounts
    real = accounts.save
    removed = False

    def save_then_remove(*aggregates: object) -> object:
        nonlocal removed
        result = real(*aggregates)  # type: ignore[arg-type]
        if not removed and any(getattr(a, "trying_until", None) for a in aggregates):
            removed = True  # the owner removed them while the password was checked
            gone = accounts.user(owner.id)
            gone.remove("user:boss")
            real(gone)
        return result

    accounts.save = save_then_remove  # type: ignore[method-assign,assignment]
    with pytest.raises(SignInRefusedError):
        world.signin.sign_in("anna", PASSWORD, "192.0.2.1")
    assert world.sessions.of_user(owner.id, world.clock(), IDLE) == []


def test_failures_long_ago_are_forgotten(world: World) -> None:
    owner = world.register()
    for _ in range(5):
        with pytest.raises((SignInRefusedError, SignInThrottledError)):
            world.signin.sign_in("anna", "wrong-password", "192.0.2.1")
        world.clock.advance(5)
    world.clock.advance(LOCK_FOR.total_seconds())
    with pytest.raises(SignInRefusedError):  # not throttled: counted from one again
        world.signin.sign_in("anna", "wrong-password", "192.0.2.1")
    assert world.user(owner).failures == 1
