"""Dedicated inbound numbers on the real database: the operator adds a number to the pool and
assigns it to an account once its module is unlocked; the account sees it and sends from it,
no other account may; a reply to it belongs to that account, whatever the window."""

from __future__ import annotations

import secrets
import time

from tests.integration.api.test_replies import replied, sent
from tests.support.api import ApiHarness


def test_a_dedicated_number_is_assigned_used_and_answered(api: ApiHarness) -> None:
    holder, other = api.register(), api.register()
    number = "49157" + str(secrets.randbelow(10**7)).zfill(7)
    added = api.client.post("/v1/admin/inbound-numbers", headers=api.admin,
                            json={"number": "+" + number})  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json() == {"number": number, "account_id": None}
    again = api.client.post("/v1/admin/inbound-numbers", headers=api.admin,
                            json={"number": number})  # fmt: skip
    assert again.status_code == 422
    bad = api.client.post("/v1/admin/inbound-numbers", headers=api.admin, json={"number": "abc"})
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("invalid-inbound-number")
    assign = f"/v1/admin/inbound-numbers/{number}/assign"
    locked = api.client.post(assign, headers=api.admin,
                             json={"account_id": str(holder.account_id)})  # fmt: skip
    assert locked.status_code == 409
    assert locked.json()["type"].endswith("module-locked")
    unlocked = api.client.patch(f"/v1/admin/accounts/{holder.account_id}", headers=api.admin,
                                json={"modules": ["inbound_numbers"]})  # fmt: skip
    assert unlocked.status_code == 200, unlocked.text
    assigned = api.client.post(assign, headers=api.admin,
                               json={"account_id": str(holder.account_id)})  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    api.client.patch(f"/v1/admin/accounts/{other.account_id}", headers=api.admin,
                     json={"modules": ["inbound_numbers"]})  # fmt: skip
    taken = api.client.post(assign, headers=api.admin,
                            json={"account_id": str(other.account_id)})  # fmt: skip
    assert taken.status_code == 409
    own = api.client.get("/v1/account/inbound-numbers", headers=holder.headers).json()
    assert own == {"items": [{"number": number, "account_id": str(holder.account_id)}]}
    assert api.client.get("/v1/account/inbound-numbers", headers=other.headers).json() == {
        "items": []
    }
    body = {"to": ["+4915112345678"], "text": "Hallo", "sender": number}
    for _ in range(40):  # the API reads the pool anew every few seconds
        refused = api.client.post("/v1/messages", headers=other.headers, json=body)
        if refused.status_code == 422:
            break
        time.sleep(0.25)
    assert refused.status_code == 422, refused.text
    assert refused.json()["type"].endswith("sender-not-yours")
    message = sent(api, holder, number)
    api.catch_up()
    replied(api, "Ja", "+" + number, handset="+4916099887766")  # a handset it never wrote to
    replied(api, "Passt", number)
    shown = api.client.get("/v1/replies", headers=holder.headers).json()["items"]
    assert sorted((r["text"], r["rule"], r["message_id"]) for r in shown) == [
        ("Ja", "dedicated_number", None),
        ("Passt", "dedicated_number", message["messages"][0]["message_id"]),
    ]
    released = api.client.post(f"/v1/admin/inbound-numbers/{number}/release", headers=api.admin)
    assert released.json() == {"number": number, "account_id": None}
