"""Sending mail over SMTP (aiosmtplib) to ``KONTOR_SMTP_URL``:
``smtp://[user:password@]host[:port]`` (STARTTLS, required unless the host is this machine:
a stripped STARTTLS must not expose the links and the login) or ``smtps://...`` (TLS from the
start). Each mail goes out multipart/alternative: its text part,
then its HTML part."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from adapters.mail.letters import Mail

TIMEOUT = 30.0


def message(mail: Mail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "kontor")
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    return msg


class SmtpSender:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"not an SMTP URL (smtp://host:port or smtps://...): {url!r}")
        self.hostname = parts.hostname
        self.tls = parts.scheme == "smtps"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.loopback = self.hostname in ("127.0.0.1", "::1", "localhost")

    async def send(self, mail: Mail) -> None:
        await aiosmtplib.send(
            message(mail, self.sender),
            hostname=self.hostname,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.tls,
            start_tls=False if self.tls else (None if self.loopback else True),
            timeout=TIMEOUT,
        )
