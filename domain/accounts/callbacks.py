"""Where an account wants to hear of replies and status changes, and the secret its webhooks
are signed with.

A webhook URL is ``https`` with a host name or address; plain ``http`` only to a loopback
host (a receiver on the same machine, as in development). Whether the host resolves to an
address the platform may call (not private, not link-local) is decided when it is called
(``adapters.webhooks``), because an address is what a name resolves to then.

Secrets follow the Standard Webhooks scheme (``whsec_`` and 24 random bytes, base64). A
rotation makes a new secret current and keeps the previous one signing too for
``SECRET_OVERLAP``, so a receiver can switch without dropping a callback.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from uuid import UUID

from domain.accounts.exceptions import AccountError
from domain.personal import PersonalData

SECRET_OVERLAP = timedelta(hours=24)
MAX_URL = 2000
MAX_EMAILS = 5
EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class InvalidCallbackError(AccountError):
    """A webhook URL or forwarding address that cannot be used; the message says why."""


@dataclass(frozen=True)
class Callbacks:
    reply_url: str | None = None
    """Where each reply (MO) is posted."""
    reply_emails: PersonalData | None = None
    """Addresses each reply is mailed to, comma-separated (the people's own data)."""
    status_url: str | None = None
    """Where status changes of outgoing messages are posted."""
    status_every_state: bool = False
    """Every state a report names (accepted, enroute ...), not only final ones."""

    @property
    def emails(self) -> list[str]:
        value = self.reply_emails.value if self.reply_emails is not None else None
        return [e for e in (value or "").split(",") if e]


@dataclass(frozen=True)
class WebhookSecret:
    secret: PersonalData
    created_at: datetime
    retires_at: datetime | None = None
    """When a rotated-out secret stops signing (``None``: the current one)."""


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: str | None, what: str) -> str | None:
    """The URL as it will be called, or ``InvalidCallbackError``."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidCallbackError(f"{what}: at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidCallbackError(f"{what}: not a URL ({exc})") from exc
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidCallbackError(f"{what}: an https:// URL with a host")
    if parts.scheme == "http" and not is_loopback(host):
        raise InvalidCallbackError(f"{what}: https is required (http only to a loopback host)")
    if parts.username or parts.password:
        raise InvalidCallbackError(f"{what}: no user or password in the URL")
    if parts.fragment:
        raise InvalidCallbackError(f"{what}: no fragment (#...)")
    if port == 0:
        raise InvalidCallbackError(f"{what}: port 0")
    return url


def checked_emails(emails: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(e.strip() for e in emails if e.strip()))
    if len(cleaned) > MAX_EMAILS:
        raise InvalidCallbackError(f"reply_emails: at most {MAX_EMAILS} addresses")
    for email in cleaned:
        if len(email) > 254 or not EMAIL.match(email):
            raise InvalidCallbackError(f"reply_emails: {email!r} is not an e-mail address")
    return cleaned


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def signing(secrets_: tuple[WebhookSecret, ...], now: datetime) -> list[str]:
    """The secrets that sign a callback now: the current one, and a rotated-out one until it
    retires."""
    return [
        s.secret.value
        for s in secrets_
        if s.secret.value is not None and (s.retires_at is None or s.retires_at > now)
    ]


@dataclass(frozen=True, slots=True)
class DueCallback:
    """A queued webhook call that is due (``services.callbacks``)."""

    delivery_id: UUID
    account_id: UUID
    url: str
    body: bytes | None
    """``None`` once the person it tells of was erased: nothing is sent then."""
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a webhook call and what the receiver answered."""

    number: int
    at: datetime
    status: int | None
    latency_ms: float
    error: str | None
    response: str
