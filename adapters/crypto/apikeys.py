"""API key material: generation, parsing, and the peppered HMAC-SHA256 digest we store.

A key reads ``kt_<prefix>_<secret>``: the 12-character prefix is public (it names the key, and
its aggregate id derives from it); the secret has 240 bits of entropy. Only
``HMAC-SHA256(pepper, key)`` is stored, so a leaked event store reveals no usable key, and
checking a key costs one HMAC (microseconds), not a password hash.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
from dataclasses import dataclass

from settings import HASHED_KEY

KEY_FORMAT = re.compile(r"^kt_([a-z2-7]{12})_([A-Za-z0-9_-]{40})$")


@dataclass(frozen=True)
class NewApiKey:
    plaintext: str
    prefix: str
    digest: str


class MalformedApiKeyError(ValueError):
    """An API key has the form kt_<12 characters>_<40 characters>."""


def digest(pepper: bytes, plaintext: str) -> str:
    return hmac.new(pepper, plaintext.encode(), "sha256").hexdigest()


def generate(pepper: bytes) -> NewApiKey:
    prefix = base64.b32encode(secrets.token_bytes(10)).decode().lower()[:12]
    secret = secrets.token_urlsafe(30)[:40]
    plaintext = f"kt_{prefix}_{secret}"
    return NewApiKey(plaintext, prefix, digest(pepper, plaintext))


def prefix_of(plaintext: str) -> str:
    match = KEY_FORMAT.match(plaintext)
    if match is None:
        raise MalformedApiKeyError("not a Kontor API key")
    return match.group(1)


def matches(pepper: bytes, plaintext: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(pepper, plaintext), stored_digest)


def hashed(pepper: bytes, plaintext: str) -> str:
    """The configured form of a key (``HASH_FORMAT``)."""
    return f"{prefix_of(plaintext)}:{digest(pepper, plaintext)}"


def parse_hashed(value: str) -> tuple[str, str]:
    """``(prefix, digest)`` of a key's configured form."""
    match = HASHED_KEY.match(value)
    if match is None:
        raise MalformedApiKeyError("expected <12-character prefix>:<64 hex digits>")
    return match.group(1), match.group(2)


def configured(pepper: bytes, hashed_form: str | None, plaintext: str | None) -> str | None:
    """A deploy key's hash from configuration: its hash, or (deprecated) the key hashed."""
    if hashed_form is not None:
        return hashed_form
    return hashed(pepper, plaintext) if plaintext else None
