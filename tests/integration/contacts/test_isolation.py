"""One account never sees or changes another account's lists, recipients, imports, opt-outs."""

from __future__ import annotations

from tests.support.api import ApiHarness
from tests.support.contacts import create_list, recipients, upload


def test_another_accounts_ids_are_not_found_and_change_nothing(api: ApiHarness) -> None:
    owner, stranger = api.register(), api.register()
    list_id = create_list(api, owner, "Geheim")
    (rid,) = api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={"recipients": [{"number": "0171 2345678", "fields": {"Vorname": "Anna"}}]},
        headers=owner.headers,
    ).json()["ids"]
    job = upload(api, owner, list_id, b"Handy\n0160 1234567\n").json()
    opt_out = api.client.post(
        "/v1/opt-outs", json={"number": "0171 2345678"}, headers=owner.headers
    ).json()

    lists_url = f"/v1/lists/{list_id}"
    attempts = [
        ("GET", lists_url, None),
        ("PATCH", lists_url, {"name": "Meins"}),
        ("DELETE", lists_url, None),
        ("GET", f"{lists_url}/export.csv", None),
        ("GET", f"{lists_url}/recipients", None),
        ("POST", f"{lists_url}/recipients", {"recipients": [{"number": "0160 7654321"}]}),
        ("GET", f"{lists_url}/recipients/{rid}", None),
        ("PATCH", f"{lists_url}/recipients/{rid}", {"fields": {"Vorname": "Eve"}}),
        ("DELETE", f"{lists_url}/recipients/{rid}", None),
        ("GET", f"/v1/imports/{job['id']}", None),
        ("GET", f"/v1/imports/{job['id']}/rejections.csv", None),
        ("DELETE", f"/v1/opt-outs/{opt_out['id']}?reason=mine", None),
    ]
    for method, url, body in attempts:
        response = api.client.request(method, url, json=body, headers=stranger.headers)
        assert response.status_code == 404, (method, url, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    foreign_upload = upload(api, stranger, list_id, b"Handy\n0160 1234567\n")
    assert foreign_upload.status_code == 404

    assert api.client.get("/v1/lists", headers=stranger.headers).json()["items"] == []
    assert api.client.get("/v1/opt-outs", headers=stranger.headers).json()["items"] == []
    erased = api.client.post(
        "/v1/privacy/erasures", json={"number": "0171 2345678"}, headers=stranger.headers
    ).json()
    assert erased["lists"] == 0
    assert erased["opted_out"] is False

    (kept,) = recipients(api, owner, list_id)
    assert kept["fields"] == {"vorname": "Anna"}
    assert api.client.get(lists_url, headers=owner.headers).json()["name"] == "Geheim"
    owner_opt_outs = api.client.get("/v1/opt-outs", headers=owner.headers).json()["items"]
    assert [o["number"] for o in owner_opt_outs] == ["00491712345678"]
    assert api.client.get(f"/v1/imports/{job['id']}", headers=owner.headers).status_code == 200


def test_the_same_number_hashes_differently_in_two_accounts(api: ApiHarness) -> None:
    first, second = api.register(), api.register()
    for customer in (first, second):
        api.client.post("/v1/opt-outs", json={"number": "0171 2345678"}, headers=customer.headers)
    ids = {
        api.client.get("/v1/opt-outs", headers=c.headers).json()["items"][0]["id"]
        for c in (first, second)
    }
    assert len(ids) == 2
