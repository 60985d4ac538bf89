"""The development and test mail sink (aiosmtpd): an SMTP server that delivers nothing and
keeps every mail it is given as an ``.eml`` file under its folder (``var/mail`` when
``kontor up`` starts it, because ``KONTOR_SMTP_URL`` is unset). ``kontor mail`` lists them;
``read`` gives them back parsed, newest last."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Keep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        stamp = f"{time.time_ns()}"
        path = self.folder / f"{stamp}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.rename(path)  # whole files only: a reader never sees half a mail
        return "250 kept"


def sink(folder: Path, host: str = "127.0.0.1", port: int = 0) -> Controller:
    """An SMTP sink keeping mails under ``folder``, not yet started (``start()``, ``stop()``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return Controller(_Keep(folder), hostname=host, port=port)


def read(folder: Path) -> list[EmailMessage]:
    """Every mail kept under ``folder``, oldest first."""
    mails = []
    for path in sorted(folder.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if isinstance(parsed, EmailMessage):
            mails.append(parsed)
    return mails
