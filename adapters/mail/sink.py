"""The development and test mail sink (aiosmtpd): an SMTP server that delivers nothing and
keeps every mail it is given as an ``.eml`` file under its folder (``var/mail`` when
``kontor up`` starts it, because ``KONTOR_SMTP_URL`` is unset). ``kontor mail`` lists them,
and so does a page on loopback (``serve_page``: ``kontor up`` prints its address); ``read``
gives them back parsed, oldest first."""

from __future__ import annotations

import email
import email.policy
import html
import threading
import time
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


def page(folder: Path) -> str:
    """The kept mails as one HTML page, newest first (the sink's local-only web page)."""
    rows = []
    for n, kept in enumerate(reversed(read(folder)), start=1):
        body = kept.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        rows.append(
            f"<details{' open' if n == 1 else ''}><summary>{n}. {html.escape(str(kept['Date']))}"
            f" · {html.escape(str(kept['To']))} · {html.escape(str(kept['Subject']))}</summary>"
            f"<pre>{html.escape(text)}</pre></details>"
        )
    listing = "\n".join(rows) or "<p>No mails yet.</p>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<title>Kontor mail sink</title></head><body style='font-family: sans-serif'>"
        f"<h1>Mails kept by the local SMTP sink</h1>{listing}</body></html>"
    )


def serve_page(folder: Path, host: str, port: int) -> ThreadingHTTPServer:
    """The page on ``host:port`` (loopback only), served from a thread; ``shutdown()`` ends it."""
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise ValueError("the mail page is for this machine only: serve it on loopback")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page(folder).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="mail-page", daemon=True).start()
    return server
