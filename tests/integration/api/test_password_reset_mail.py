"""A password reset end to end: the request over HTTP, the mail through the outbox and a real
SMTP server (the sink, as its own process), the link read back from the mail, the new password
set over HTTP, and a sign-in with it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.embedded import free_port, tcp_answers, wait_until
from adapters.mail.sink import read
from adapters.mail.smtp import SmtpSender
from adapters.postgres.mail_outbox import PostgresMailOutbox
from kontor.samples import SAMPLE_PASSWORD, registration
from tests.support.api import ApiHarness
from workers.mailer import deliver_due

NEW = "Regenschirm-Kaktus-9"


@pytest.fixture
def smtp_sink(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    port, page_port = free_port(), free_port()
    folder = tmp_path / "mail"
    process = subprocess.Popen(
        [sys.executable, "-m", "kontor", "smtp-sink", "--port", str(port), "--dir", str(folder),
         "--page-port", str(page_port)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"smtp://127.0.0.1:{port}"
    try:
        wait_until(lambda: tcp_answers(url), 30, "the SMTP sink")
        wait_until(lambda: tcp_answers(f"http://127.0.0.1:{page_port}"), 30, "its page")
        yield url, folder, f"http://127.0.0.1:{page_port}/"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)


def test_a_reset_link_arrives_by_mail_and_sets_the_password(
    api: ApiHarness, smtp_sink: tuple[str, Path, str]
) -> None:
    url, folder, page = smtp_sink
    api.client.post("/v1/accounts", json=registration("rita", email="rita@example.de"))
    asked = api.client.post(
        "/v1/password-resets", json={"login": "rita", "email": "RITA@example.de"}
    )
    unknown = api.client.post(
        "/v1/password-resets", json={"login": "rita", "email": "someone@example.de"}
    )
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()
    pool = api.backend.pool
    assert pool is not None
    sender = SmtpSender(url, "Kontor <noreply@kontor.test>")
    assert deliver_due(PostgresMailOutbox(pool), sender, datetime.now(UTC)) == 1
    assert deliver_due(PostgresMailOutbox(pool), sender, datetime.now(UTC)) == 0  # sent: gone
    (mail,) = read(folder)
    assert mail["To"] == "rita@example.de"
    assert mail["From"] == "Kontor <noreply@kontor.test>"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    found = re.search(r"/reset-password#token=([\w-]+)", text.get_content())
    assert found is not None
    token = found.group(1)
    assert token in html.get_content()
    assert SAMPLE_PASSWORD not in mail.as_string()
    listed = httpx.get(page, timeout=10)
    assert listed.status_code == 200
    assert "Kennwort zurücksetzen / Reset your password" in listed.text
    assert "rita@example.de" in listed.text

    signed_in = api.client.post("/v1/sessions", json={"login": "rita", "password": SAMPLE_PASSWORD})
    assert signed_in.status_code == 201
    weak = api.client.post(
        "/v1/password-resets/complete", json={"token": token, "password": "kurz"}
    )
    assert weak.status_code == 422
    done = api.client.post("/v1/password-resets/complete", json={"token": token, "password": NEW})
    assert done.status_code == 204, done.text
    assert api.client.get("/v1/account").status_code == 401  # the session ended
    again = api.client.post("/v1/password-resets/complete", json={"token": token, "password": NEW})
    assert again.status_code == 400
    assert again.json()["type"].endswith("/reset-token-invalid")
    old = api.client.post("/v1/sessions", json={"login": "rita", "password": SAMPLE_PASSWORD})
    assert old.status_code == 401
    new = api.client.post("/v1/sessions", json={"login": "rita", "password": NEW})
    assert new.status_code == 201
