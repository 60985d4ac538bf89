"""``POST /v1/messages/preview`` gives the send's verdicts for the caller's account."""

from __future__ import annotations

from tests.support.api import ApiHarness

MOBILE, OTHER = "+4915112345678", "+4915187654321"


def test_the_preview_refuses_a_blocked_sender_and_skips_opted_out_numbers(
    api: ApiHarness,
) -> None:
    customer, _ = api.send_single()
    opted = api.client.post("/v1/opt-outs", json={"number": OTHER}, headers=customer.headers)
    assert opted.status_code in (200, 201), opted.text
    body = {"text": "Hallo", "sender": "Kontor", "recipients": [{"number": MOBILE},
            {"number": OTHER}, {"number": "0151 12345678"}]}  # fmt: skip
    preview = api.client.post("/v1/messages/preview", json=body, headers=customer.headers)
    assert preview.status_code == 200, preview.text
    shown = preview.json()
    assert [r["error_code"] for r in shown["recipients"]] == [None, "opted_out", "repeated"]
    assert shown["recipients_ok"] == 1
    assert shown["total_price"] == 790
    send = {"text": "Hallo", "sender": "Kontor", "to": [MOBILE, OTHER, "0151 12345678"]}
    sent = api.client.post("/v1/messages", json=send, headers=customer.headers)
    assert sent.status_code == 201, sent.text
    assert [s["reason"] for s in sent.json()["skipped"]] == ["opted_out", "repeated"]
    assert sent.json()["total_price"] == shown["total_price"]

    blocked = api.client.patch(
        f"/v1/admin/accounts/{customer.account_id}",
        json={"blocked_senders": ["Kontor"]},
        headers=api.admin,
    )
    assert blocked.status_code == 200, blocked.text
    refused = api.client.post("/v1/messages/preview", json=body, headers=customer.headers)
    assert refused.status_code == 422
    assert refused.json()["type"].endswith("/sender-blocked")
