"""The preview gives the send's verdicts: the same rule refuses a blocked sender and skips
opted-out and repeated numbers in both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from domain.accounts.exceptions import SenderBlockedError, SenderNotYoursError
from domain.messaging.records import Lane
from domain.pricing.preview import Recipient, preview_messages
from domain.tariff import Tariff
from services.acceptance import SendAcceptance, SendRequest
from tests.fakes import FakeOptOuts
from tests.fakes.apps import MemoryApps, memory_apps
from tests.fakes.sending import FakeStaging
from tests.unit.pricing.factories import NOW, preview_rules
from tests.unit.services.test_acceptance import MOBILE, OTHER, customer

RECIPIENTS = [Recipient(MOBILE), Recipient(OTHER), Recipient("0151 12345678")]


@pytest.fixture
def apps() -> MemoryApps:
    return memory_apps()


@pytest.fixture
def opt_outs() -> FakeOptOuts:
    return FakeOptOuts()


@pytest.fixture
def acceptance(apps: MemoryApps, opt_outs: FakeOptOuts) -> Iterator[SendAcceptance]:
    service = SendAcceptance(
        accounts=apps.accounts, ledger=apps.ledger, messaging=apps.messaging, keys=apps.keyring,
        rules=preview_rules(), staging=FakeStaging(apps.keyring), opt_outs=opt_outs,
        validity=timedelta(hours=72), month_volume=lambda account_id, now: 0,
    )  # fmt: skip
    yield service
    service.close()


def test_the_preview_skips_what_the_send_skips_and_prices_only_the_rest(
    apps: MemoryApps, acceptance: SendAcceptance, opt_outs: FakeOptOuts
) -> None:
    account = customer(apps)
    opt_outs.opt_out(account, apps.keyring.lookup_hasher(account)(OTHER).hex())
    engine = preview_messages("Hallo", RECIPIENTS, rules=preview_rules(), tariff=Tariff.QUALITY,
                              month_volume=0, now=NOW, sender="Kontor")  # fmt: skip
    assert engine.recipients_ok == 3
    shown = acceptance.verdicts.screen_preview(account, engine, "Kontor", keep_repeats=False)
    sent = acceptance.accept(SendRequest(account, Lane.BULK, "Hallo", "Kontor", RECIPIENTS), NOW)
    codes = [r.error_code for r in shown.recipients]
    assert codes == [None, "opted_out", "repeated"]
    assert [(s.position, s.reason) for s in sent.skipped] == [(1, "opted_out"), (2, "repeated")]
    assert shown.totals.net == sent.send.expected_cost == 790
    assert (shown.recipients_ok, shown.recipients_failed) == (1, 2)
    kept = acceptance.verdicts.screen_preview(account, engine, "Kontor", keep_repeats=True)
    assert [r.error_code for r in kept.recipients] == [None, "opted_out", None]


def test_a_blocked_sender_is_refused_by_the_preview_as_by_the_send(
    apps: MemoryApps, acceptance: SendAcceptance
) -> None:
    account = customer(apps)
    apps.accounts.administer(account, actor="op", blocked_senders=frozenset({"Kontor"}))
    engine = preview_messages("Hallo", RECIPIENTS, rules=preview_rules(), tariff=Tariff.QUALITY,
                              month_volume=0, now=NOW, sender="Kontor")  # fmt: skip
    with pytest.raises(SenderBlockedError):
        acceptance.verdicts.screen_preview(account, engine, "Kontor", keep_repeats=False)
    with pytest.raises(SenderBlockedError):
        acceptance.accept(SendRequest(account, Lane.BULK, "Hallo", "Kontor", RECIPIENTS), NOW)


def test_another_accounts_dedicated_number_is_refused_as_sender(apps: MemoryApps) -> None:
    holder, other = customer(apps), customer(apps, username="bert")
    held = {"4915790001": holder}
    service = SendAcceptance(
        accounts=apps.accounts, ledger=apps.ledger, messaging=apps.messaging, keys=apps.keyring,
        rules=preview_rules(), staging=FakeStaging(apps.keyring), opt_outs=FakeOptOuts(),
        validity=timedelta(hours=72), month_volume=lambda account_id, now: 0,
        held=held.get,
    )  # fmt: skip
    try:
        for sender in ("4915790001", "+4915790001", "004915790001"):
            with pytest.raises(SenderNotYoursError):
                service.verdicts.check_request(other, sender)
        assert service.verdicts.check_request(holder, "+4915790001").id == holder
        assert service.verdicts.check_request(other, "4915790002").id == other
        sent = service.accept(
            SendRequest(holder, Lane.BULK, "Hallo", "+4915790001", RECIPIENTS[:1]), NOW
        )
        assert sent.send.sender == "4915790001"
    finally:
        service.close()
