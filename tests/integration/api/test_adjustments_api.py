"""Adjustments over HTTP are idempotent by their reference, as top-ups are: a repeat answers
200 with ``repeated: true`` and books nothing; the reference with another amount is a 409."""

from __future__ import annotations

from typing import Any

from tests.support.api import ApiHarness, Customer


def adjust(api: ApiHarness, customer: Customer, **body: Any) -> Any:
    return api.client.post(
        f"/v1/admin/accounts/{customer.account_id}/adjustments", json=body, headers=api.admin
    )


def test_a_goodwill_or_refund_repeated_with_its_reference_says_repeated(api: ApiHarness) -> None:
    customer, _ = api.send_single(credit=100_000)
    before = api.balance(customer)["available"]
    goodwill = {"type": "goodwill", "amount": 5_000, "reason": "Entschuldigung", "reference": "G-7"}
    first, again = adjust(api, customer, **goodwill), adjust(api, customer, **goodwill)
    assert (first.status_code, first.json()["repeated"]) == (201, False)
    assert (again.status_code, again.json()["repeated"]) == (200, True)
    refund = {"type": "refund", "amount": 2_000, "reason": "Vertragsende", "reference": "R-7"}
    assert adjust(api, customer, **refund).status_code == 201
    repeated = adjust(api, customer, **refund)
    assert (repeated.status_code, repeated.json()["repeated"]) == (200, True)
    assert api.balance(customer)["available"] == before + 5_000 - 2_000  # each booked once

    reused = adjust(api, customer, **{**refund, "amount": 3_000})
    assert reused.status_code == 409
    assert reused.headers["content-type"] == "application/problem+json"
    problem = reused.json()
    assert problem["type"].endswith("/adjustment-reference-reused")
    assert (problem["recorded"], problem["requested"]) == (2_000, 3_000)
    assert api.balance(customer)["available"] == before + 3_000
