"""Worked examples a finance reader can follow. Amounts are in 1/10,000 EUR: 790 is 0.0790 EUR
(the price of one SMS part here), 100_000 is 10.00 EUR. VAT is 19%.

Sends are driven through the Ledger application as the send pipeline drives it (reserve the
expected cost, capture what the carrier accepted, release what it rejected, close the rest);
everything else goes through the HTTP API, and every figure is read back from the API.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domain.ledger.exceptions import SendLimitExceededError
from domain.ledger.reservation import reservation_id_for
from tests.support.api import ApiHarness, Customer

PRICE = 790


def send(api: ApiHarness, customer: Customer, count: int, accepted: int, rejected: int) -> UUID:
    """A campaign of ``count`` one-part SMS: ``accepted`` reach the carrier, ``rejected`` fail
    before it, the rest are never sent (cancelled)."""
    ledger = api.backend.ledger
    account = UUID(customer.account_id)
    send_id = uuid4()
    now = api.clock()
    ledger.reserve(
        account,
        send_id=send_id,
        amount=count * PRICE,
        parts=count,
        count=count,
        now=now,
        expires_at=now + timedelta(hours=72),
    )
    reservation = reservation_id_for(send_id)
    ledger.capture(reservation, range(accepted), [PRICE] * accepted, [1] * accepted)
    failed = range(accepted, accepted + rejected)
    ledger.release(
        reservation,
        failed,
        [PRICE] * rejected,
        [1] * rejected,
        reason="rejected by carrier",
        now=now,
    )
    ledger.close_reservation(reservation, reason="campaign complete", now=now)
    return reservation


def lines(api: ApiHarness) -> dict[str, tuple[int, int]]:
    return {line["title"]: (line["debit"], line["credit"]) for line in api.trial_balance()["lines"]}


def test_a_package_bought_by_paypal_posts_gross_cash_net_credit_and_vat(api: ApiHarness) -> None:
    customer = api.register()
    # 100 EUR net package: the customer pays 119 EUR, 19 EUR of it is VAT.
    response = api.topup(customer, net=1_000_000, reference="PAYPAL-7781")
    assert response.status_code == 201, response.text
    assert response.json()["vat"] == 190_000
    assert response.json()["gross"] == 1_190_000
    tb = lines(api)
    assert tb["cash:paypal"] == (1_190_000, 0)
    assert tb["vat_payable"] == (0, 190_000)
    trial = api.settings.trial_credit
    assert tb["customer_credit"] == (0, 1_000_000 + trial)
    assert tb["expense:trial_credit"] == (trial, 0)
    balance = api.balance(customer)
    assert balance["available"] == 1_000_000 + trial
    assert balance["remaining_sms"] == (1_000_000 + trial) // balance["price_per_sms"]
    # The bank re-sends the same payment notification: nothing changes.
    again = api.topup(customer, net=1_000_000, reference="PAYPAL-7781")
    assert again.status_code == 200
    assert again.json()["repeated"] is True
    assert api.balance(customer)["available"] == 1_000_000 + trial
    conflict = api.topup(customer, net=500_000, reference="PAYPAL-7781")
    assert conflict.status_code == 409


def test_a_campaign_with_rejections_charges_exactly_the_accepted_messages(api: ApiHarness) -> None:
    customer = api.register()
    api.topup(customer, net=1_000_000, reference="SEPA-1", method="sepa_direct_debit")
    trial = api.settings.trial_credit
    # 1,000 SMS held (790 EUR... no: 1,000 x 0.079 = 79.00 EUR), 950 accepted, 30 rejected,
    # 20 never sent.
    send(api, customer, count=1_000, accepted=950, rejected=30)
    balance = api.balance(customer)
    assert balance["spent"] == 950 * PRICE  # 75.05 EUR
    assert balance["held"] == 0
    assert balance["available"] == 1_000_000 + trial - 950 * PRICE
    tb = lines(api)
    assert tb["revenue:sms"] == (0, 950 * PRICE)
    assert tb["credit_held"] == (0, 0)
    assert api.trial_balance()["balanced"] is True
    assert api.trial_balance()["total_debit"] == api.trial_balance()["total_credit"]


def test_an_expired_package_and_both_options_for_its_remainder(api: ApiHarness) -> None:
    customer = api.register()
    other = api.register()
    for c in (customer, other):
        api.topup(c, net=100_000, reference=f"BANK-{c.username}", method="bank_transfer")
        send(api, c, count=10, accepted=10, rejected=0)  # 7,900 used
    api.clock.advance(days=200)  # past the 6 months of the package and the trial's 90 days
    for c in (customer, other):
        api.backend.ledger.expire_lots(UUID(c.account_id), api.clock())
    trial = api.settings.trial_credit
    left = 100_000 + trial - 7_900
    before = api.balance(customer)
    assert before["available"] == 0
    assert before["expired"] == left
    # Option 1: continue using the credit against a base fee of 5.00 EUR.
    reactivated = api.client.post(
        f"/v1/admin/accounts/{customer.account_id}/adjustments",
        json={"type": "expired_reactivate", "fee": 50_000, "reason": "customer chose base fee"},
        headers=api.admin,
    )
    assert reactivated.status_code == 201, reactivated.text
    after = api.balance(customer)
    assert after["expired"] == 0
    assert after["available"] == left - 50_000
    assert after["spent"] == 7_900 + 50_000
    # Option 2: offset the whole remainder against a usage fee.
    offset = api.client.post(
        f"/v1/admin/accounts/{other.account_id}/adjustments",
        json={"type": "expired_offset", "reason": "customer chose the usage fee"},
        headers=api.admin,
    )
    assert offset.status_code == 201
    settled = api.balance(other)
    assert (settled["expired"], settled["available"], settled["spent"]) == (0, 0, 7_900 + left)
    assert lines(api)["revenue:fees"] == (0, 50_000 + left)
    assert api.trial_balance()["balanced"] is True


def test_a_refund_pays_back_net_plus_vat_and_a_release_only_moves_credit(api: ApiHarness) -> None:
    customer = api.register()
    api.topup(customer, net=200_000, reference="SOFORT-1", method="sofort")
    refund = api.client.post(
        f"/v1/admin/accounts/{customer.account_id}/adjustments",
        json={
            "type": "refund",
            "amount": 100_000,
            "method": "sofort",
            "reason": "contract end",
            "reference": "REFUND-1",
        },
        headers=api.admin,
    )
    assert refund.status_code == 201, refund.text
    tb = lines(api)
    # 20 EUR net + 3.80 VAT came in (23.80), 10 EUR net + 1.90 VAT went back (11.90).
    assert tb["cash:sofort"] == (238_000 - 119_000, 0)
    assert tb["vat_payable"] == (0, 38_000 - 19_000)
    balance = api.balance(customer)
    assert balance["debited"] == 100_000
    assert balance["available"] == 200_000 + api.settings.trial_credit - 100_000
    overdraw = api.client.post(
        f"/v1/admin/accounts/{customer.account_id}/adjustments",
        json={"type": "refund", "amount": 10_000_000, "reason": "too much"},
        headers=api.admin,
    )
    assert overdraw.status_code == 402
    assert overdraw.json()["shortfall"] == 10_000_000 - balance["available"]


def test_a_postpaid_month_accrues_a_receivable_and_stops_at_the_daily_limit(
    api: ApiHarness,
) -> None:
    customer = api.register()
    api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}",
        json={"contract": {"type": "postpaid", "daily_parts": 100, "monthly_parts": 1000}},
        headers=api.admin,
    )
    ledger = api.backend.ledger
    account = UUID(customer.account_id)
    now = api.clock()
    expires_at = now + timedelta(hours=72)
    ledger.reserve(
        account,
        send_id=uuid4(),
        amount=80 * PRICE,
        parts=80,
        count=80,
        now=now,
        expires_at=expires_at,
        daily_limit=100,
        monthly_limit=1000,
    )
    with pytest.raises(SendLimitExceededError) as refused:
        ledger.reserve(
            account,
            send_id=uuid4(),
            amount=30 * PRICE,
            parts=30,
            count=30,
            now=now,
            expires_at=expires_at,
            daily_limit=100,
            monthly_limit=1000,
        )
    exc = refused.value
    assert (exc.period, exc.limit, exc.used, exc.requested) == ("daily", 100, 80, 30)
    api.clock.advance(days=1)  # a new Europe/Berlin day: 30 more fit
    send(api, customer, count=30, accepted=30, rejected=0)
    balance = api.balance(customer)
    assert balance["receivable"] == 30 * PRICE
    assert balance["spent"] == 30 * PRICE
    assert api.trial_balance()["balanced"] is True


def test_auto_recharge_requests_one_package_when_credit_runs_low(api: ApiHarness) -> None:
    customer = api.register()
    api.topup(customer, net=20_000, reference="P-1")
    configured = api.client.put(
        "/v1/account/auto-recharge",
        json={"threshold": 15_000, "package_net": 500_000},
        headers=customer.headers,
    )
    assert configured.status_code == 200
    account = UUID(customer.account_id)
    send(api, customer, count=20, accepted=20, rejected=0)
    wallet = api.backend.ledger.wallet(account)
    request = wallet.pending_recharge
    assert request is not None
    send(api, customer, count=1, accepted=1, rejected=0)
    assert api.backend.ledger.wallet(account).pending_recharge == request  # never a second one
    # The payment for the request arrives with the request id as its reference.
    api.topup(customer, net=500_000, reference=str(request))
    assert api.backend.ledger.wallet(account).pending_recharge is None


def test_balance_as_of_a_past_moment_and_the_statement_as_csv(api: ApiHarness) -> None:
    customer = api.register()
    api.topup(customer, net=100_000, reference="P-A")
    api.catch_up()
    moment: datetime = datetime.now().astimezone()
    api.topup(customer, net=50_000, reference="P-B")
    send(api, customer, count=5, accepted=4, rejected=1)
    trial = api.settings.trial_credit
    past = api.balance(customer, as_of=moment.isoformat())
    assert past["available"] == 100_000 + trial
    assert past["spent"] == 0
    now = api.balance(customer)
    assert now["available"] == 150_000 + trial - 4 * PRICE
    statement = api.client.get(
        "/v1/account/statement", params={"format": "csv"}, headers=customer.headers
    )
    assert statement.status_code == 200
    assert statement.headers["content-type"] == "text/csv; charset=utf-8"  # once
    rows = list(csv.reader(io.StringIO(statement.text), delimiter=";"))
    assert rows[0] == [
        "position",
        "recorded_at",
        "kind",
        "description",
        "amount_eur",
        "balance_eur",
    ]
    kinds = [row[2] for row in rows[1:]]
    assert kinds == ["trial", "purchase", "purchase", "capture"]
    assert [row[4] for row in rows[1:]] == [  # German Excel reads ";" with decimal commas
        f"{trial / 10_000:.4f}".replace(".", ","),
        "10,0000",
        "5,0000",
        f"-{4 * PRICE / 10_000:.4f}".replace(".", ","),
    ]
    assert rows[-1][5] == f"{(150_000 + trial - 4 * PRICE) / 10_000:.4f}".replace(".", ",")
    paged = api.client.get(
        "/v1/account/statement", params={"limit": "2"}, headers=customer.headers
    ).json()
    assert len(paged["lines"]) == 2
    rest = api.client.get(
        "/v1/account/statement",
        params={"limit": "10", "cursor": paged["next_cursor"]},
        headers=customer.headers,
    ).json()
    assert [line["kind"] for line in rest["lines"]] == ["purchase", "capture"]
