"""Speaking to a running pipeline's send API as a customer, support or finance would, and
waiting for what they would wait for (a delivery, a finished campaign, a settled balance)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import httpx

from kontor.samples import registration
from kontor.stack import Pipeline

FINAL = frozenset({"delivered", "failed", "rejected", "cancelled"})


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def admin(p: Pipeline) -> dict[str, str]:
    return bearer(str(p.settings.admin_api_key))


def finance(p: Pipeline) -> dict[str, str]:
    return bearer(str(p.settings.finance_api_key))


def new_customer(
    client: httpx.Client, p: Pipeline, credit: int = 10_000_000
) -> tuple[str, dict[str, str]]:
    """Register an account and top it up; returns its id and its key's headers."""
    registered = client.post(
        "/v1/accounts",
        json=registration(f"eva{secrets.token_hex(4)}"),
    )
    assert registered.status_code == 201, registered.text
    account = registered.json()
    topup = client.post(
        f"/v1/admin/accounts/{account['account_id']}/topups",
        json={"net": credit, "method": "bank_transfer", "reference": secrets.token_hex(6)},
        headers=admin(p),
    )
    assert topup.status_code == 201, topup.text
    return str(account["account_id"]), bearer(account["api_key"])


def json_of(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def message_when(
    p: Pipeline,
    client: httpx.Client,
    headers: dict[str, str],
    message_id: str,
    states: frozenset[str] = FINAL,
    timeout: float = 60,
) -> dict[str, Any]:
    """The message's detail (``GET /v1/messages/{id}``) once its state is one of ``states``."""

    def reached() -> Any:
        response = client.get(f"/v1/messages/{message_id}", headers=headers)
        if response.status_code != 200:
            return None
        body = response.json()
        return body if body["message"]["state"] in states else None

    found: dict[str, Any] = p.wait_for(reached, timeout=timeout, what=f"message in {states}")
    return found


def campaign_settled(
    p: Pipeline, client: httpx.Client, headers: dict[str, str], campaign_id: str, timeout: float
) -> dict[str, Any]:
    """The campaign once it completed or was cancelled and every recorded message is final."""

    def settled() -> Any:
        body = client.get(f"/v1/campaigns/{campaign_id}", headers=headers).json()
        final = sum(n for state, n in body["counts"].items() if state in FINAL)
        done = body["state"] in ("completed", "cancelled")
        return body if done and final == body["recorded"] == sum(body["counts"].values()) else None

    found: dict[str, Any] = p.wait_for(settled, timeout=timeout, what="campaign settled")
    return found


def campaign_messages(
    client: httpx.Client, headers: dict[str, str], campaign_id: str, state: str | None = None
) -> list[dict[str, Any]]:
    """Every message row of a campaign, following the pages."""
    rows: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "1000"} | ({"state": state} if state else {})
    while True:
        page = json_of(
            client.get(f"/v1/campaigns/{campaign_id}/messages", params=params, headers=headers)
        )
        rows.extend(page["messages"])
        if page["next_cursor"] is None:
            return rows
        params["cursor"] = page["next_cursor"]


def balance_when(
    p: Pipeline,
    client: httpx.Client,
    headers: dict[str, str],
    check: Callable[[dict[str, Any]], bool],
    what: str = "balance",
    timeout: float = 60,
) -> dict[str, Any]:
    def matching() -> Any:
        balance = json_of(client.get("/v1/account/balance", headers=headers))
        return balance if check(balance) else None

    found: dict[str, Any] = p.wait_for(matching, timeout=timeout, what=what)
    return found
