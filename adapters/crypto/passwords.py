"""Passwords: the policy a new password must meet, and Argon2id hashes (argon2-cffi).

A hash is the PHC string argon2-cffi writes (``$argon2id$v=19$m=...,t=...,p=...$salt$hash``):
it names its own parameters, so ``verify`` checks a hash made with any earlier ones and
``needs_rehash`` says when a sign-in should store a new one (the parameters changed since).
``DEFAULT`` costs about 50 ms on the 2-core machine this is built on; tests use ``FAST``.
Hashing is CPU work: callers run it off the event loop (the API's handlers run in threads,
and argon2 releases the GIL while it works), and at most ``turns`` hashes run at once (half
the cores): in a storm of 20 concurrent sign-ins the other requests' p99 was 211 ms with every
sign-in hashing at once and 19 ms with one at a time, for 17 instead of 26 sign-ins a second
(``kontor bench signin``).

Nothing here logs, and no error message carries a password or a hash.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256
"""Longer input is refused before hashing (a megabyte "password" is work for nothing)."""


class WeakPasswordError(ValueError):
    """A password must have at least ``MIN_LENGTH`` characters, at most ``MAX_LENGTH``, and be
    neither on the shipped list of common passwords nor the username or e-mail address."""


@dataclass(frozen=True)
class Argon2Parameters:
    time_cost: int
    memory_kib: int
    parallelism: int


DEFAULT = Argon2Parameters(time_cost=4, memory_kib=19_456, parallelism=1)
"""About 50 ms a hash on the 2-core machine this is built on (measured: 48-59 ms): OWASP's
Argon2id setting m=19 MiB, t=2, with twice the passes. (m=46 MiB, t=1, the other
recommendation, took 62 ms and more memory per concurrent sign-in.)"""
FAST = Argon2Parameters(time_cost=1, memory_kib=8, parallelism=1)
"""For tests only: a hash in microseconds."""


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("adapters").joinpath("data", "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def check_policy(password: str, *, username: str = "", email: str = "") -> None:
    """Raise ``WeakPasswordError`` (saying which rule) unless the password may be used."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if folded in common_passwords():
        raise WeakPasswordError("this password is on the list of commonly used passwords")
    others = {username.casefold(), email.casefold(), email.casefold().split("@")[0]}
    if folded in others - {""}:
        raise WeakPasswordError("a password may not be the username or the e-mail address")


class Passwords:
    """Argon2id hashing with the given parameters (``services.ports.PasswordHashes``)."""

    def __init__(self, parameters: Argon2Parameters = DEFAULT, turns: int | None = None) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_kib,
            parallelism=parameters.parallelism,
            type=Type.ID,
        )
        self._turns = threading.BoundedSemaphore(turns or max(1, (os.cpu_count() or 2) // 2))
        self._dummy = self._hasher.hash("a password nobody has")

    def hash(self, password: str) -> str:
        with self._turns:
            return self._hasher.hash(password)

    def verify(self, hashed: str | None, password: str) -> bool:
        """Whether the password matches; ``hashed`` None (no such user) still costs one
        verification, so that the answer's timing does not tell whether the user exists."""
        if len(password) > MAX_LENGTH:
            return False
        try:
            with self._turns:
                matches = self._hasher.verify(hashed or self._dummy, password)
            return matches and hashed is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(hashed)
        except InvalidHashError:
            return True
