"""Cancelling a send says what it stopped and what had gone, from the carrier's claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID

import pytest

from domain.messaging.exceptions import NothingToCancelError, SendNotCancellableError
from domain.messaging.records import Lane
from domain.messaging.send import SendState
from domain.pricing.preview import Recipient
from services.acceptance import SendAcceptance, SendRequest
from services.cancellation import CancellationOutcome, SendCancellation
from tests.fakes import FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeStaging
from tests.unit.pricing.factories import NOW, preview_rules
from tests.unit.services.test_acceptance import customer


class FakeClaimCounts:
    def __init__(self) -> None:
        self.counts: dict[UUID, dict[str, int]] = {}

    def claim_counts(self, send_id: UUID) -> dict[str, int]:
        return self.counts.get(send_id, {})


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


@pytest.fixture
def campaign(apps: MemoryApps) -> Iterator[UUID]:
    service = SendAcceptance(
        accounts=apps.accounts, ledger=apps.ledger, messaging=apps.messaging, keys=apps.keyring,
        rules=preview_rules(), staging=FakeStaging(apps.keyring), opt_outs=FakeOptOuts(),
        validity=timedelta(hours=72), month_volume=lambda account_id, now: 0,
    )  # fmt: skip
    numbers = [Recipient(f"+49151{n:08d}") for n in range(10)]
    request = SendRequest(customer(apps), Lane.BULK, "Angebot", "Kontor", numbers)
    yield service.accept(request, NOW).send.id
    service.close()


def test_the_answer_counts_what_had_gone_and_what_was_stopped(
    apps: MemoryApps, campaign: UUID
) -> None:
    claims = FakeClaimCounts()
    claims.counts[campaign] = {"accepted": 6, "submitting": 1, "rejected": 1, "cancelled": 1}
    send, outcome = SendCancellation(apps.messaging, claims).cancel(campaign, None, "a", "r")
    assert send.state is SendState.CANCELLED
    assert outcome == CancellationOutcome(stopped=2, sent=6, in_flight=1, rejected=1)


def test_a_send_whose_messages_have_all_gone_is_not_cancelled(
    apps: MemoryApps, campaign: UUID
) -> None:
    claims = FakeClaimCounts()
    claims.counts[campaign] = {"accepted": 9, "uncertain": 1}
    with pytest.raises(NothingToCancelError) as refused:
        SendCancellation(apps.messaging, claims).cancel(campaign, None, "a", "r")
    assert (refused.value.sent, refused.value.in_flight) == (9, 1)
    assert apps.messaging.send(campaign).state is SendState.SENDING


def test_a_cancelled_send_is_refused_as_such(apps: MemoryApps, campaign: UUID) -> None:
    cancellation = SendCancellation(apps.messaging, FakeClaimCounts())
    assert cancellation.cancel(campaign, None, "a", "r")[1].stopped == 10
    with pytest.raises(SendNotCancellableError):
        cancellation.cancel(campaign, None, "a", "r")
