"""The Send aggregate's lifecycle rules that the expander and the cancel endpoint rely on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.send_states import SendCancellations
from domain.messaging.exceptions import SendExpiredError, SendNotDueError
from domain.messaging.records import Lane
from domain.messaging.send import Send, SendState
from domain.personal import PersonalData
from domain.tariff import Tariff
from tests.fakes.apps import memory_apps

ACCEPTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EXPIRES = ACCEPTED + timedelta(hours=72)


def campaign(total: int, *, review: bool = False, schedule_at: datetime | None = None) -> Send:
    account = uuid4()
    return Send(
        id=uuid4(),
        account_id=account,
        lane=Lane.BULK,
        sender="Shop",
        tariff=Tariff.QUALITY,
        template=PersonalData(account, "Hallo {vorname}"),
        list_id=None,
        total=total,
        parts=total,
        expected_cost=790 * total,
        skipped=(),
        schedule_at=schedule_at,
        review_required=review,
        fingerprint="f",
        idempotency_key=None,
        name="",
        expires_at=EXPIRES,
    )


def test_a_send_cancelled_while_its_last_chunk_is_rendered_records_nothing_more() -> None:
    send = campaign(1000)
    send.record_chunk(500)
    send.cancel("customer:kt_x", "cancelled by customer")
    with pytest.raises(SendNotDueError):
        send.record_chunk(500)  # the expander read this chunk before the cancellation
    assert send.state is SendState.CANCELLED
    assert send.recorded == 500


def test_a_send_awaiting_review_records_no_messages_until_released() -> None:
    send = campaign(10, review=True)
    with pytest.raises(SendNotDueError):
        send.record_chunk(10)
    send.release_review("admin:kt_y")
    send.record_chunk(10)
    assert send.state is SendState.RECORDED


def test_a_send_awaiting_review_cannot_be_released_after_its_validity_period() -> None:
    send = campaign(10, review=True)
    with pytest.raises(SendExpiredError) as refused:
        send.release_review("admin:kt_y", EXPIRES)
    assert refused.value.expired_at == EXPIRES.isoformat()
    assert send.state is SendState.AWAITING_REVIEW
    send.release_review("admin:kt_y", EXPIRES - timedelta(seconds=1))
    assert send.is_due(EXPIRES - timedelta(seconds=1))  # released: the expander records it


def test_a_send_nobody_released_from_review_ends_cancelled_by_the_system() -> None:
    waiting = campaign(10, review=True)
    assert not waiting.expire(EXPIRES - timedelta(seconds=1))
    assert waiting.expire(EXPIRES)
    assert waiting.state is SendState.CANCELLED
    assert not waiting.expire(EXPIRES)  # once
    with pytest.raises(SendNotDueError):
        waiting.record_chunk(10)


def test_a_released_send_is_recorded_even_past_its_validity_period() -> None:
    """Its messages are recorded and the carrier sender records each as expired (so every
    recipient shows why nothing was sent); the send is not cancelled."""
    scheduled = campaign(10, schedule_at=ACCEPTED + timedelta(hours=1))
    assert not scheduled.is_due(ACCEPTED)
    assert scheduled.is_due(EXPIRES)
    assert not scheduled.expire(EXPIRES)
    half = campaign(1000)
    half.record_chunk(500)
    assert not half.expire(EXPIRES)
    assert half.is_due(EXPIRES)
    half.record_chunk(500)
    assert half.recorded == 1000


def test_a_recorded_send_is_not_ended_by_its_validity_period() -> None:
    """It completes as its messages settle (the sweeper closes its reservation)."""
    send = campaign(10)
    send.record_chunk(10)
    assert not send.expire(EXPIRES + timedelta(days=1))
    assert send.state is SendState.RECORDED


def test_the_carrier_finds_the_cancelled_sends_of_an_in_memory_store() -> None:
    messaging = memory_apps().messaging
    kept, cancelled = campaign(1), campaign(1)
    messaging.save(kept, cancelled)
    messaging.cancel(cancelled.id, None, "customer:kt_y", "not needed")
    assert SendCancellations(messaging).cancelled([kept.id, cancelled.id]) == {cancelled.id}
