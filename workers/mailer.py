"""The mailer worker: every ``INTERVAL`` seconds it sends the mails due in the outbox
(``adapters.postgres.mail_outbox``) over SMTP (``KONTOR_SMTP_URL``) and deletes each once the
server took it. A mail the server refused or could not take waits and is tried again; the log
names the attempt, never the address or the content.

With more than one mailer running, two may send the same mail once (each deletes it after):
``kontor up`` runs one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.backend import open_backend_patiently
from adapters.mail.smtp import SmtpSender
from adapters.postgres.mail_outbox import PostgresMailOutbox
from settings import Settings
from workers.runtime import stop_event_on_signals

log = logging.getLogger(__name__)
INTERVAL = 1.0


def deliver_due(outbox: PostgresMailOutbox, sender: SmtpSender, now: datetime) -> int:
    """Send every mail due now; how many went out."""
    sent = 0
    for queued in outbox.due(now):
        try:
            asyncio.run(sender.send(queued.mail))
        except Exception as exc:  # noqa: BLE001 - any refusal: the mail waits and goes again
            kept = outbox.failed(queued, now)
            log.warning(
                "mail not sent" if kept else "mail given up",
                extra={
                    "mail": queued.id,
                    "attempt": queued.attempts + 1,
                    "error": type(exc).__name__,
                },
            )
            continue
        outbox.sent(queued.id)
        sent += 1
    return sent


def run(settings: Settings, clock: Callable[[], datetime] | None = None) -> int:
    stop = stop_event_on_signals("mailer")
    if settings.smtp_url is None:
        log.error("KONTOR_SMTP_URL is unset: no mail can be sent (kontor up starts a sink)")
        return 2
    backend = open_backend_patiently(settings, pool_size=2)
    now = clock or (lambda: datetime.now(UTC))
    try:
        if backend.pool is None:
            raise RuntimeError("the mailer needs PostgreSQL")
        outbox = PostgresMailOutbox(backend.pool)
        outbox.setup()
        sender = SmtpSender(settings.smtp_url, settings.mail_from)
        while not stop.is_set():
            try:
                deliver_due(outbox, sender, now())
            except Exception:
                log.exception("mail round failed; retrying")
            stop.wait(INTERVAL)
    finally:
        backend.close()
    return 0
