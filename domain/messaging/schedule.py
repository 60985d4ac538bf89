"""When a send may be scheduled: a pure rule, with the time passed in.

- A time up to ``SCHEDULE_GRACE`` in the past is "now" (the send goes at once); further back is
  refused (``ScheduleInPastError``): a date typed wrong must not send at once without a word.
- A time beyond ``now + horizon`` is refused (``ScheduleTooFarError``).
- A prepaid send's credit must still be valid at its time: the Ledger holds it only from lots
  that have not expired by then (``Wallet.hold(valid_until=...)``,
  ``CreditExpiresBeforeScheduleError``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.messaging.exceptions import ScheduleInPastError, ScheduleTooFarError

SCHEDULE_GRACE = timedelta(minutes=5)


def scheduled_time(send_at: datetime | None, now: datetime, horizon: timedelta) -> datetime | None:
    """The time the send waits for, or None when it is due now."""
    if send_at is None:
        return None
    if send_at < now - SCHEDULE_GRACE:
        raise ScheduleInPastError(send_at, now, SCHEDULE_GRACE)
    latest = now + horizon
    if send_at > latest:
        raise ScheduleTooFarError(send_at, latest)
    return send_at if send_at > now else None
