"""What replies and delivery reports are forwarded as (services.forwarding), and which
addresses a webhook may be posted to (adapters.webhooks.AddressGuard)."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.webhooks import AddressGuard, networks
from domain.accounts.callbacks import Callbacks
from domain.messaging.records import DeliveryReport, SubmitOutcome, SubmitResult
from domain.personal import PersonalData
from services.forwarding import (
    ForwardedReply,
    outcome_callbacks,
    reply_callbacks,
    status_callbacks,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def reply(**changes: object) -> ForwardedReply:
    values: dict[str, object] = {
        "reply_id": uuid4(), "account_id": uuid4(), "message_id": uuid4(), "send_id": uuid4(),
        "number": "+4915112345678", "key_id": uuid4(), "to": "Praxis", "text": "Ja, passt",
        "received_at": NOW, "stop": False, "incomplete": False,
    }  # fmt: skip
    return ForwardedReply(**(values | changes))  # type: ignore[arg-type]


def report(account_id: object, state: str = "delivered", final: bool = True) -> DeliveryReport:
    return DeliveryReport(
        message_id=uuid4(), send_id=uuid4(), account_id=account_id,  # type: ignore[arg-type]
        part=1,
        carrier_id="100", state=state, status_text="DELIVRD", error_code=None, final=final,
        done_at=NOW, received_at=NOW, source="deliver_sm",
    )  # fmt: skip


def test_a_reply_is_posted_sealed_under_its_handsets_key_and_mailed() -> None:
    answered = reply()
    emails = PersonalData(uuid4(), "a@example.de,b@example.de")
    callbacks = Callbacks(reply_url="https://hooks.example/mo", reply_emails=emails)
    queued, mails = reply_callbacks(answered, callbacks, NOW, link="https://k.example/app/x")
    (call,) = queued
    assert (call.url, call.key_id, call.event_type) == (
        "https://hooks.example/mo", answered.key_id, "reply.received",
    )  # fmt: skip
    payload = json.loads(call.body)
    assert payload["type"] == "reply.received"
    assert payload["data"]["from"] == "004915112345678"
    assert payload["data"]["text"] == "Ja, passt"
    assert payload["data"]["message_id"] == str(answered.message_id)
    again, _ = reply_callbacks(answered, callbacks, NOW)
    assert again[0].delivery_id == call.delivery_id  # the same event: the same Webhook-Id
    assert [m.to for m in mails] == ["a@example.de", "b@example.de"]
    assert "Ja, passt" in mails[0].text
    assert "004915112345678" in mails[0].subject
    assert "https://k.example/app/x" in mails[0].html


def test_nothing_is_forwarded_without_callbacks_or_once_erased() -> None:
    assert reply_callbacks(reply(), Callbacks(), NOW) == ([], [])
    erased = reply(number=None, text=None)
    assert reply_callbacks(erased, Callbacks(reply_url="https://hooks.example/"), NOW) == ([], [])


def test_status_callbacks_go_to_the_accounts_that_want_them() -> None:
    final_only, every, none = uuid4(), uuid4(), uuid4()
    wants = {
        final_only: Callbacks(status_url="https://a.example/dlr"),
        every: Callbacks(status_url="https://b.example/dlr", status_every_state=True),
        none: Callbacks(),
    }
    reports = [
        report(final_only), report(final_only, "enroute", final=False),
        report(every), report(every, "enroute", final=False), report(none),
    ]  # fmt: skip
    queued = status_callbacks(reports, wants.__getitem__, NOW)
    assert [(q.url, json.loads(q.body)["data"]["state"]) for q in queued] == [
        ("https://a.example/dlr", "delivered"),
        ("https://b.example/dlr", "delivered"),
        ("https://b.example/dlr", "enroute"),
    ]
    assert all(q.key_id is None for q in queued)
    assert len({q.delivery_id for q in status_callbacks(reports, wants.__getitem__, NOW)}) == 3


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "0.0.0.0",
     "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "100.64.0.1", "224.0.0.1"],
)  # fmt: skip
def test_private_and_link_local_addresses_are_refused(address: str) -> None:
    assert not AddressGuard().permits(ipaddress.ip_address(address))


def test_public_addresses_and_allowed_networks_pass() -> None:
    assert AddressGuard().permits(ipaddress.ip_address("93.184.216.34"))
    assert AddressGuard().permits(ipaddress.ip_address("2a00:1450:4001:80b::200e"))
    allowed = AddressGuard(networks("127.0.0.0/8, 10.0.0.0/8"))
    assert allowed.permits(ipaddress.ip_address("127.0.0.1"))
    assert allowed.permits(ipaddress.ip_address("10.9.9.9"))
    assert not allowed.permits(ipaddress.ip_address("192.168.1.1"))
    with pytest.raises(ValueError, match="does not appear"):
        networks("not-a-network")


def result(account_id: object, outcome: SubmitOutcome, status: int = 0) -> SubmitResult:
    return SubmitResult(
        message_id=uuid4(), send_id=uuid4(), account_id=account_id,  # type: ignore[arg-type]
        index=0, parts=1, price=790, outcome=outcome, carrier_ids=(), command_status=status,
        attempt=1, route="smsc", at=NOW,
    )  # fmt: skip


def test_messages_ended_without_a_report_are_told_final() -> None:
    final_only, every = uuid4(), uuid4()
    wants = {
        final_only: Callbacks(status_url="https://a.example/dlr"),
        every: Callbacks(status_url="https://b.example/dlr", status_every_state=True),
    }
    results = [
        result(final_only, SubmitOutcome.REJECTED, 0x0B),
        result(final_only, SubmitOutcome.ACCEPTED),
        result(final_only, SubmitOutcome.UNCERTAIN),
        result(every, SubmitOutcome.EXPIRED),
        result(every, SubmitOutcome.ACCEPTED),
        result(every, SubmitOutcome.CANCELLED),
    ]  # fmt: skip
    told = [json.loads(q.body)["data"] for q in outcome_callbacks(results, wants.__getitem__, NOW)]
    assert [(d["state"], d["final"], d["error_code"]) for d in told] == [
        ("rejected", True, "0x000b"), ("expired", True, None), ("submitted", False, None),
        ("cancelled", True, None),
    ]  # fmt: skip
