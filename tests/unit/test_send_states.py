"""The Send aggregate's lifecycle rules that the expander and the cancel endpoint rely on."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.messaging.exceptions import SendNotDueError
from domain.messaging.records import Lane
from domain.messaging.send import Send, SendState
from domain.personal import PersonalData
from domain.tariff import Tariff


def campaign(total: int, *, review: bool = False) -> Send:
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
        schedule_at=None,
        review_required=review,
        fingerprint="f",
        idempotency_key=None,
        name="",
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
