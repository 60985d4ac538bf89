"""The edge's one validation layer: what a store cannot hold never gets past the decoder."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import msgspec
import pytest
from eventsourcing.application import AggregateNotFoundError

from adapters.postgres.eventstore import event_store_env
from api.schemas.accounts import ApiKeyCreate, RegistrationCreate
from api.schemas.admin import AccountAdminUpdate, AdjustmentCreate, TopupCreate
from api.schemas.contacts import ListCreate, RecipientCreate, RecipientsAdd
from api.schemas.messages import CampaignCreate, MessageCreate
from domain.ledger.application import Ledger
from domain.ledger.billing import Billing
from domain.ledger.exceptions import InvalidAmountError
from domain.ledger.lots import LotSource, PaymentMethod
from domain.money import MAX_AMOUNT
from kontor.samples import registration

CAMPAIGN = {"text": "Hallo", "sender": "Kontor", "recipients": [{"number": "01711234567"}]}
TOPUP = {"net": 1_000, "method": "paypal", "reference": "r-1"}


def decode(kind: Any, body: dict[str, Any]) -> Any:
    return msgspec.json.decode(msgspec.json.encode(body), type=kind)


def refused(kind: Any, body: dict[str, Any]) -> bool:
    try:
        decode(kind, body)
    except msgspec.ValidationError:
        return True
    return False


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        (CampaignCreate, CAMPAIGN | {"name": "a\x00b"}),
        (CampaignCreate, CAMPAIGN | {"name": "a\x1bb"}),
        (CampaignCreate, CAMPAIGN | {"text": "Hallo\x00"}),
        (CampaignCreate, CAMPAIGN | {"recipients": [{"number": "0171", "fields": {"a\x00": "x"}}]}),
        (CampaignCreate, CAMPAIGN | {"name": "n" * 201}),
        (TopupCreate, TOPUP | {"reference": "x\x00y"}),
        (TopupCreate, TOPUP | {"package": "p\x07"}),
        (ListCreate, {"name": "a\x00b"}),
        (ListCreate, {"name": "a\nb"}),
        (RecipientCreate, {"number": "0171\x00"}),
        (RecipientsAdd, {"pasted": "0171\x00"}),
        (RegistrationCreate, registration("anna", first_name="A\x00")),
        (RegistrationCreate, registration("anna", street="Weg\n1")),
        (ApiKeyCreate, {"label": "\x7f"}),
        (AdjustmentCreate, {"type": "goodwill", "amount": 5, "reason": "sorry\x00"}),
        (AccountAdminUpdate, {"blocked_senders": ["A\x00"]}),
    ],
)
def test_control_characters_and_overlong_texts_are_refused(kind: Any, body: dict[str, Any]) -> None:
    assert refused(kind, body)


def test_a_lone_surrogate_is_refused_even_when_given_as_a_python_string() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": "a\udc80b"}, ListCreate)


def test_a_message_text_keeps_line_breaks_and_tabs_but_no_other_control() -> None:
    sent = decode(MessageCreate, {"to": ["0171"], "text": "Zeile 1\r\nZeile\t2", "sender": "K"})
    assert sent.text == "Zeile 1\r\nZeile\t2"
    assert refused(MessageCreate, {"to": ["0171"], "text": "bell\x07", "sender": "K"})


def test_a_message_text_is_at_most_1500_characters() -> None:
    decode(MessageCreate, {"to": ["0171"], "text": "a" * 1500, "sender": "K"})
    assert refused(MessageCreate, {"to": ["0171"], "text": "a" * 1501, "sender": "K"})
    schema = msgspec.json.schema(MessageCreate)
    assert schema["$defs"]["MessageCreate"]["properties"]["text"]["maxLength"] == 1500


@pytest.mark.parametrize("net", [0, -1, MAX_AMOUNT + 1, 2**63, 10**30])
def test_a_topup_amount_is_positive_and_at_most_the_maximum(net: int) -> None:
    assert refused(TopupCreate, TOPUP | {"net": net})


def test_the_maximum_amount_is_accepted_and_fits_bigint_sums() -> None:
    assert decode(TopupCreate, TOPUP | {"net": MAX_AMOUNT}).net == MAX_AMOUNT
    assert MAX_AMOUNT * 9_000_000 < 2**63


@pytest.mark.parametrize(
    "body",
    [
        {"type": "goodwill", "amount": 2**63, "reason": "sorry"},
        {"type": "goodwill", "amount": 0, "reason": "sorry"},
        {"type": "correction", "amount": -(2**63), "reason": "fix"},
        {"type": "refund", "amount": MAX_AMOUNT + 1, "reason": "back"},
        {"type": "expired_reactivate", "fee": 2**63, "reason": "again"},
        {"type": "release", "reservation_id": str(uuid4()), "amounts": [2**63], "reason": "x!"},
    ],
)
def test_adjustment_amounts_are_bounded(body: dict[str, Any]) -> None:
    assert refused(AdjustmentCreate, body)


def test_a_negative_correction_within_the_maximum_is_accepted() -> None:
    assert decode(AdjustmentCreate, {"type": "correction", "amount": -500, "reason": "fix"})


def test_the_ledger_itself_refuses_amounts_above_the_maximum() -> None:
    ledger = Ledger(env=event_store_env(None))
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    account = uuid4()
    ledger.open_wallet(account, Billing.PREPAID)
    with pytest.raises(InvalidAmountError):
        ledger.purchase(account, net=MAX_AMOUNT + 1, vat=0, method=PaymentMethod.PAYPAL,
                        reference="r", package="p", actor="admin:x", now=now,
                        expires_at=None)  # fmt: skip
    with pytest.raises(InvalidAmountError):
        ledger.grant(account, source=LotSource.GOODWILL, amount=2**63, reference="g",
                     reason="sorry", actor="admin:x", now=now, expires_at=None)  # fmt: skip
    with pytest.raises(AggregateNotFoundError):
        ledger.purchase(uuid4(), net=5, vat=1, method=PaymentMethod.PAYPAL, reference="r",
                        package="p", actor="admin:x", now=now, expires_at=None)  # fmt: skip
