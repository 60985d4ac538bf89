"""What the send endpoints show and whom they show it to: scoping, local times, campaign
progress (counts per state, cost so far, ETA)."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from litestar.exceptions import PermissionDeniedException

from api.auth import Principal
from api.context import ApiContext
from api.errors import ProblemError
from api.schemas.messages import CampaignRead
from domain.accounts.api_key import Role
from domain.ledger.billing import BERLIN
from domain.ledger.reservation import reservation_id_for
from domain.messaging.exceptions import SendNotFoundError
from domain.phone.exceptions import InvalidPhoneNumberError
from projections import ledger_queries
from projections import messaging_queries as q

OPEN_STATES = ("scheduled", "queued", "pending", "buffered")
#: How long ``GET /v1/messages/{id}`` waits for the read models to show a message recorded
#: before the request came (a client that reads right after its 201).
READ_YOUR_WRITES_SECONDS = 2.0
READ_YOUR_WRITES_WAITERS = 8
_WAITERS = threading.BoundedSemaphore(READ_YOUR_WRITES_WAITERS)


def local(moment: datetime | None) -> datetime | None:
    """A time without offset is Europe/Berlin local time (what customers type)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=BERLIN)


def scope_account(principal: Principal, requested: UUID | None) -> UUID | None:
    """Customers see their own account only; support (admin) may name any, or all."""
    if principal.role is Role.CUSTOMER:
        return principal.customer_account
    if principal.role in (Role.ADMIN, Role.SUPPORT):
        return requested
    raise PermissionDeniedException("this endpoint is for customers and support")


def may_see(principal: Principal, account_id: UUID) -> bool:
    return principal.role in (Role.ADMIN, Role.SUPPORT) or principal.account_id == account_id


def parse_number(ctx: ApiContext, number: str) -> str:
    try:
        return ctx.numbers.parse(number).e164
    except InvalidPhoneNumberError as exc:
        raise ProblemError(422, "invalid-number", "Invalid number", exc.reason) from exc


def keyset_after(cursor: str | None) -> tuple[datetime, UUID] | None:
    """Where a keyset page starts: a ``next_cursor`` as a previous page gave it
    (``<time>|<id>``); anything else is a 422 problem."""
    if not cursor:
        return None
    at, _, row_id = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), UUID(row_id)
    except ValueError as exc:
        raise ProblemError(
            422, "invalid-cursor", "Invalid cursor", "use next_cursor as given"
        ) from exc


def keyset_next(rows: list[dict[str, Any]], limit: int, time_key: str, id_key: str) -> str | None:
    """The ``next_cursor`` after a full page (None after the last one)."""
    if len(rows) < limit:
        return None
    last = rows[-1]
    return f"{last[time_key].isoformat()}|{last[id_key]}"


def message_row_seen(ctx: ApiContext, principal: Principal, message_id: UUID) -> dict[str, Any]:
    """The read model's row of a message the principal may see, or a 404.

    A single send's messages are recorded by the call that answers 201 and their rows follow a
    moment later (the projections worker): a client that asks right after its 201 must not be
    told they do not exist. So when the row is missing, and the messaging read models have not
    yet applied everything recorded when the request came, wait for them (at most
    ``READ_YOUR_WRITES_SECONDS``) and look again. Another account's message waits the same, so
    the answer's timing tells nothing about ids that are not the principal's; and at most
    ``READ_YOUR_WRITES_WAITERS`` requests wait at once, so unknown ids cannot tie up the
    threads every other endpoint needs."""
    row = q.message(ctx.pool, message_id)
    if row is not None and may_see(principal, row["account_id"]):
        return row
    waited = _wait_for_read_models(ctx)
    if row is None and waited:
        row = q.message(ctx.pool, message_id)
    if row is None or not may_see(principal, row["account_id"]):
        raise ProblemError(404, "not-found", "Not found", f"no message {message_id}")
    return row


def _wait_for_read_models(ctx: ApiContext) -> bool:
    """Wait until the messaging read models applied what was recorded by now (bounded);
    False if they already had, or too many requests are waiting already."""
    app = ctx.backend.messaging
    recorded = app.recorder.max_notification_id() or 0
    if q.projected_up_to(ctx.pool, app.name) >= recorded:
        return False
    if not _WAITERS.acquire(blocking=False):
        return False
    try:
        deadline = time.monotonic() + READ_YOUR_WRITES_SECONDS
        pause = 0.005
        while q.projected_up_to(ctx.pool, app.name) < recorded:
            if time.monotonic() >= deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
    finally:
        _WAITERS.release()
    return True


def own_send(ctx: ApiContext, principal: Principal, send_id: UUID) -> dict[str, Any]:
    row = q.send_row(ctx.pool, send_id)
    if row is None:
        # Accepted a moment ago, not yet in the read model: the event store knows it.
        owner = principal.account_id if principal.role is Role.CUSTOMER else None
        send = ctx.backend.messaging.send(send_id, owner)
        row = {
            "send_id": send.id,
            "account_id": send.account_id,
            "lane": send.lane.value,
            "name": send.name,
            "state": send.state.value,
            "total": send.total,
            "recorded": send.recorded,
            "parts": send.parts,
            "expected_cost": send.expected_cost,
            "skipped": [{"reason": s.reason, "count": s.count} for s in send.skipped],
            "sender": send.sender,
            "tariff": send.tariff.value,
            "schedule_at": send.schedule_at,
            "review_required": send.review_required,
            "created_at": send.created_on,
            "completed_at": None,
        }
    if not may_see(principal, row["account_id"]):
        # The same answer as for an id nobody has (no existence oracle across accounts).
        raise SendNotFoundError(send_id)
    return row


def campaign_read(
    ctx: ApiContext, row: dict[str, Any], *, counts: bool, overview: bool = False
) -> CampaignRead:
    """The send as the API shows it; ``counts``: with its messages per state, the cost so far
    and the ETA. ``overview`` (a page listing several sends): the cost as the read side has it
    and no ETA, which for a big send in flight would cost scans its list does not show."""
    send_id = row["send_id"]
    state_counts = q.state_counts(ctx.pool, send_id) if counts else {}
    cost = 0
    eta = None
    if counts and overview:
        cost = ledger_queries.captured(ctx.pool, reservation_id_for(send_id))
    elif counts:
        try:
            cost = ctx.backend.ledger.reservation(reservation_id_for(send_id)).captured
        except AggregateNotFoundError:  # no reservation yet: nothing spent yet
            cost = 0
        remaining = row["total"] - sum(
            n for state, n in state_counts.items() if state not in OPEN_STATES
        )
        rate = q.recent_rate(ctx.pool, send_id, ctx.now())
        eta = (
            round(remaining / rate, 1)
            if rate and remaining > 0
            else (0.0 if not remaining else None)
        )
    return CampaignRead(
        campaign_id=send_id,
        name=row["name"],
        lane=row["lane"],
        state=row["state"],
        sender=row["sender"],
        tariff=row["tariff"],
        recipients=row["total"],
        recorded=row["recorded"],
        parts=row["parts"],
        expected_cost=row["expected_cost"],
        cost_so_far=cost,
        counts=state_counts,
        skipped=list(row["skipped"]),
        review_required=row["review_required"],
        send_at=row["schedule_at"],
        created_at=row["created_at"],
        completed_at=row["completed_at"],
        eta_seconds=eta,
    )
