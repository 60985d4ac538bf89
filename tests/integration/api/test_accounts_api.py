"""Registration, API keys and the customer's own account over HTTP."""

from __future__ import annotations

import re
import time
from typing import Any
from uuid import uuid4

from api.context import TARIFF_CACHE_SECONDS
from kontor.samples import registration
from tests.support.api import ApiHarness

PROBLEM = "application/problem+json"


def test_registration_returns_a_working_key_and_trial_credit(api: ApiHarness) -> None:
    response = api.client.post(
        "/v1/accounts",
        json=registration("joerg.weiss", first_name="Jörg", last_name="Weiß",
                          email="joerg@example.de"),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["api_key"].startswith("kt_")
    assert body["trial_credit"] == api.settings.trial_credit
    headers = {"Authorization": f"Bearer {body['api_key']}"}
    account = api.client.get("/v1/account", headers=headers).json()
    assert account["id"] == body["account_id"]
    assert account["contact_name"] == "Jörg Weiß"
    assert account["number"] == body["account_number"]
    assert re.fullmatch(r"K-[1-9][0-9]{5}", body["account_number"])
    assert account["email"] == "joerg@example.de"
    assert account["state"] == "active"
    assert account["contract"]["type"] == "prepaid"
    balance = api.client.get("/v1/account/balance", headers=headers)
    api.catch_up()
    balance = api.client.get("/v1/account/balance", headers=headers).json()
    assert balance["available"] == api.settings.trial_credit
    assert balance["credited"] == api.settings.trial_credit
    assert balance["remaining_sms"] == api.settings.trial_credit // balance["price_per_sms"]
    assert balance["expiring_within_30_days"] == 0


def test_a_taken_username_is_a_409_problem_and_records_nothing(api: ApiHarness) -> None:
    api.register("taken-name")
    response = api.client.post("/v1/accounts", json=registration("Taken-Name"))
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/username-taken")


def test_invalid_registrations_are_422_problems_naming_the_field(api: ApiHarness) -> None:
    bad_email = api.client.post("/v1/accounts", json=registration("ccc", email="not-an-email"))
    assert bad_email.status_code == 422
    assert "e-mail" in bad_email.json()["detail"]
    no_company = api.client.post("/v1/accounts", json=registration("ccd", kind="company"))
    assert no_company.status_code == 422
    unknown_field = api.client.post("/v1/accounts", json=registration("cce", admin=True))
    assert unknown_field.status_code == 422
    assert unknown_field.headers["content-type"] == PROBLEM


def test_requests_without_a_valid_key_are_401_problems(api: ApiHarness) -> None:
    missing = api.client.get("/v1/account")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == PROBLEM
    forged = api.client.get(
        "/v1/account", headers={"Authorization": "Bearer kt_aaaaaaaaaaaa_" + "x" * 40}
    )
    assert forged.status_code == 401
    customer = api.register()
    wrong_secret = customer.key[:-1] + ("A" if customer.key[-1] != "A" else "B")
    assert api.client.get("/v1/account", headers={"X-API-Key": wrong_secret}).status_code == 401
    assert api.client.get("/v1/account", headers={"X-API-Key": customer.key}).status_code == 200


def test_a_revoked_key_stops_working_and_other_accounts_keys_cannot_be_revoked(
    api: ApiHarness,
) -> None:
    alice, bob = api.register(), api.register()
    created = api.client.post("/v1/account/api-keys", json={"label": "ci"}, headers=alice.headers)
    assert created.status_code == 201
    second = created.json()
    second_headers = {"Authorization": f"Bearer {second['api_key']}"}
    assert api.client.get("/v1/account", headers=second_headers).status_code == 200
    foreign = api.client.delete(f"/v1/account/api-keys/{second['id']}", headers=bob.headers)
    assert foreign.status_code == 404
    assert api.client.get("/v1/account", headers=second_headers).status_code == 200
    revoked = api.client.delete(f"/v1/account/api-keys/{second['id']}", headers=alice.headers)
    assert revoked.status_code == 204
    after = api.client.get("/v1/account", headers=second_headers)
    assert after.status_code == 401
    assert "revoked" in after.json()["title"]
    assert api.client.get("/v1/account", headers=alice.headers).status_code == 200


def test_the_last_api_key_cannot_be_revoked(api: ApiHarness) -> None:
    registered = api.client.post("/v1/accounts", json=registration("eee")).json()
    first_key = registered["api_key_id"]
    alice = {"Authorization": f"Bearer {registered['api_key']}"}
    refused = api.client.delete(f"/v1/account/api-keys/{first_key}", headers=alice)
    assert refused.status_code == 409
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"].endswith("/last-api-key")
    assert api.client.get("/v1/account", headers=alice).status_code == 200
    rotated = api.client.post("/v1/account/api-keys", json={"label": "new"}, headers=alice)
    new_headers = {"Authorization": f"Bearer {rotated.json()['api_key']}"}
    revoked = api.client.delete(f"/v1/account/api-keys/{first_key}", headers=new_headers)
    assert revoked.status_code == 204
    assert api.client.get("/v1/account", headers=alice).status_code == 401
    last = api.client.delete(f"/v1/account/api-keys/{rotated.json()['id']}", headers=new_headers)
    assert last.status_code == 409
    assert api.client.get("/v1/account", headers=new_headers).status_code == 200


def test_customer_keys_never_reach_admin_or_finance_endpoints(api: ApiHarness) -> None:
    alice, bob = api.register(), api.register()
    attempts = [
        api.client.post(
            f"/v1/admin/accounts/{alice.account_id}/topups",
            json={"net": 10_000, "method": "paypal", "reference": "x"},
            headers=alice.headers,
        ),
        api.client.post(
            f"/v1/admin/accounts/{bob.account_id}/adjustments",
            json={"type": "goodwill", "amount": 10_000, "reason": "please"},
            headers=alice.headers,
        ),
        api.client.patch(
            f"/v1/admin/accounts/{bob.account_id}", json={"state": "blocked"}, headers=alice.headers
        ),
        api.client.get("/v1/finance/trial-balance", headers=alice.headers),
        api.client.get("/v1/finance/journal", headers=alice.headers),
    ]
    assert [r.status_code for r in attempts] == [403] * 5
    assert all(r.headers["content-type"] == PROBLEM for r in attempts)
    assert api.balance(alice)["available"] == api.settings.trial_credit
    assert api.client.get("/v1/account", headers=bob.headers).json()["state"] == "active"


def test_operator_and_finance_keys_are_not_customers(api: ApiHarness) -> None:
    assert api.client.get("/v1/account", headers=api.admin).status_code == 403
    assert api.client.get("/v1/account", headers=api.finance).status_code == 403
    customer = api.register()
    finance_topup = api.client.post(
        f"/v1/admin/accounts/{customer.account_id}/topups",
        json={"net": 10_000, "method": "paypal", "reference": "f-1"},
        headers=api.finance,
    )
    assert finance_topup.status_code == 403


def test_customers_may_lower_but_not_raise_their_limits(api: ApiHarness) -> None:
    customer = api.register()
    contract = {"type": "postpaid", "daily_parts": 1000, "monthly_parts": 20000}
    admin = api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}", json={"contract": contract}, headers=api.admin
    )
    assert admin.status_code == 200, admin.text
    assert admin.json()["contract"]["limits"] == {"daily_parts": 1000, "monthly_parts": 20000}
    lowered = api.client.patch(
        "/v1/account/limits", json={"daily_parts": 100}, headers=customer.headers
    )
    assert lowered.status_code == 200, lowered.text
    assert lowered.json()["contract"]["limits"] == {"daily_parts": 100, "monthly_parts": 20000}
    raised = api.client.patch(
        "/v1/account/limits", json={"daily_parts": 5000}, headers=customer.headers
    )
    assert raised.status_code == 422
    assert raised.json()["type"].endswith("/invalid-limit")
    back_up = api.client.patch(
        "/v1/account/limits", json={"daily_parts": 1000}, headers=customer.headers
    )
    assert back_up.status_code == 200


def test_the_operator_administers_state_tariff_modules_and_senders(api: ApiHarness) -> None:
    customer = api.register()
    response = api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}",
        json={
            "state": "blocked",
            "reason": "unpaid invoice",
            "tariff": "high-quality",
            "modules": ["surveys", "inbound_numbers"],
            "blocked_senders": ["BANK"],
            "review_threshold": 5000,
        },
        headers=api.admin,
    )
    assert response.status_code == 200, response.text
    account = api.client.get("/v1/account", headers=customer.headers).json()
    assert account["state"] == "blocked"
    assert account["tariff"] == "high-quality"
    assert account["modules"] == ["inbound_numbers", "surveys"]
    assert account["blocked_senders"] == ["BANK"]
    assert account["review_threshold"] == 5000
    unknown = api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}", json={"state": "frozen"}, headers=api.admin
    )
    assert unknown.status_code == 422


def test_notice_dates_follow_the_contract(api: ApiHarness) -> None:
    customer = api.register()
    api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}",
        json={
            "contract": {
                "type": "postpaid",
                "starts_on": "2026-03-15",
                "daily_parts": 500,
                "monthly_parts": 10000,
            }
        },
        headers=api.admin,
    )
    end = api.client.get(
        "/v1/account/contract/earliest-end",
        params={"notice_on": "2026-06-01"},
        headers=customer.headers,
    ).json()
    assert end == {"notice_given_on": "2026-06-01", "ends_on": "2027-03-31"}
    late = api.client.get(
        "/v1/account/contract/earliest-end",
        params={"notice_on": "2027-03-20"},
        headers=customer.headers,
    ).json()
    assert late["ends_on"] == "2027-04-30"


def test_the_balance_prices_remaining_sms_at_a_changed_tariff_within_the_cache_time(
    api: ApiHarness,
) -> None:
    customer = api.register()
    before = api.client.get("/v1/account/balance", headers=customer.headers).json()
    changed = api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}",
        json={"tariff": "economy"},
        headers=api.admin,
    )
    assert changed.status_code == 200, changed.text

    deadline = time.monotonic() + TARIFF_CACHE_SECONDS + 2
    while True:
        after = api.client.get("/v1/account/balance", headers=customer.headers).json()
        if after["tariff"] == "economy" or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert before["tariff"] == "quality"
    assert after["tariff"] == "economy"
    assert after["price_per_sms"] < before["price_per_sms"]
    assert after["remaining_sms"] == after["available"] // after["price_per_sms"]


def test_remaining_sms_counts_at_the_tier_the_account_pays_not_the_first(
    api: ApiHarness,
) -> None:
    customer, _ = api.send_single(credit=1_000_000)
    pool: Any = api.backend.pool
    with pool.connection() as conn:  # the month so far: 20,000 parts (the read model's rows)
        conn.execute(
            "INSERT INTO msg_messages (message_id, send_id, account_id, idx, number_hash, region,"
            " encoding, parts, price, state, part_states, recorded_at, updated_at)"
            " VALUES (%s, %s, %s, 0, 'h', 'DE', 'gsm7', 20000, 0, 'delivered', '{}', %s, %s)",
            (uuid4(), uuid4(), customer.account_id, api.clock(), api.clock()),
        )
    balance = api.balance(customer)  # its first read: nothing cached
    assert balance["price_per_sms"] == 740  # quality, from 10,000 parts a month on
    assert balance["remaining_sms"] == balance["available"] // 740
