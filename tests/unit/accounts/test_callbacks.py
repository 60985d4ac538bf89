"""An account's callbacks: which webhook URLs and forwarding addresses it may set, and its
webhook secret's rotation with an overlap; both survive the event store (sealed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.accounts.callbacks import (
    SECRET_OVERLAP,
    InvalidCallbackError,
    checked_emails,
    checked_url,
    signing,
)
from tests.fakes.apps import memory_apps
from tests.unit.accounts.test_api_keys import register

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.de/sms",
        "https://203.0.113.9:8443/in?token=x",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/",
    ],
)
def test_urls_an_account_may_set(url: str) -> None:
    assert checked_url(url, "reply_url") == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.de/sms", "https is required"),
        ("ftp://hooks.example.de/", "https:// URL"),
        ("https:///path", "https:// URL"),
        ("https://user:pw@hooks.example.de/", "no user"),
        ("https://hooks.example.de/#x", "fragment"),
        ("https://hooks.example.de:99999/", "not a URL"),
        ("https://example.de/" + "a" * 2000, "at most"),
    ],
)
def test_urls_refused_with_the_reason(url: str, why: str) -> None:
    with pytest.raises(InvalidCallbackError, match=why):
        checked_url(url, "reply_url")


def test_forwarding_addresses_are_checked_and_deduplicated() -> None:
    assert checked_emails(["a@example.de", " a@example.de ", "", "b@example.de"]) == [
        "a@example.de",
        "b@example.de",
    ]
    with pytest.raises(InvalidCallbackError, match="not an e-mail"):
        checked_emails(["a@example.de,b@example.de"])
    with pytest.raises(InvalidCallbackError, match="at most 5"):
        checked_emails([f"p{n}@example.de" for n in range(6)])


def test_callbacks_are_kept_with_the_addresses_sealed() -> None:
    apps = memory_apps()
    account_id, _ = register(apps.accounts)
    apps.accounts.change_callbacks(
        account_id, reply_url="https://hooks.example.de/mo", reply_emails=["team@example.de"],
        status_url=None, status_every_state=True, actor="customer",
    )  # fmt: skip
    callbacks = apps.accounts.account(account_id).callbacks
    assert callbacks.reply_url == "https://hooks.example.de/mo"
    assert callbacks.emails == ["team@example.de"]
    assert (callbacks.status_url, callbacks.status_every_state) == (None, True)
    stored = b"".join(item.state for item in apps.accounts.recorder.select_events(account_id))
    assert b"team@example.de" not in stored
    with pytest.raises(InvalidCallbackError):
        apps.accounts.change_callbacks(
            account_id, reply_url="http://example.de", reply_emails=[], status_url=None,
            status_every_state=False, actor="customer",
        )  # fmt: skip


def test_a_rotated_out_secret_signs_until_the_overlap_ends() -> None:
    apps = memory_apps()
    account_id, _ = register(apps.accounts)
    account, first = apps.accounts.rotate_webhook_secret(account_id, NOW, "customer")
    assert first.startswith("whsec_")
    assert signing(account.webhook_secrets, NOW) == [first]
    later = NOW + timedelta(hours=1)
    account, second = apps.accounts.rotate_webhook_secret(account_id, later, "customer")
    assert signing(account.webhook_secrets, later) == [second, first]
    assert signing(account.webhook_secrets, later + SECRET_OVERLAP) == [second]
    replayed = apps.accounts.account(account_id)
    assert signing(replayed.webhook_secrets, later) == [second, first]
