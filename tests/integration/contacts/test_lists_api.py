"""Lists and recipients through the API, on PostgreSQL."""

from __future__ import annotations

from uuid import UUID

from tests.support.api import ApiHarness, Customer
from tests.support.contacts import by_number, create_list, import_file, recipients


def test_a_list_is_created_listed_renamed_counted_and_deleted(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer, "  Kunden   Köln ")
    api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={"recipients": [{"number": "0171 2345678"}, {"number": "0160 1234567"}]},
        headers=customer.headers,
    )
    listed = api.client.get("/v1/lists", headers=customer.headers).json()["items"]
    assert [(item["name"], item["recipients"]) for item in listed] == [("Kunden Köln", 2)]

    renamed = api.client.patch(
        f"/v1/lists/{list_id}", json={"name": "Stammkunden"}, headers=customer.headers
    )
    assert renamed.json()["name"] == "Stammkunden"
    assert api.client.delete(f"/v1/lists/{list_id}", headers=customer.headers).status_code == 204
    gone = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers)
    assert gone.status_code == 404
    assert gone.json()["type"].endswith("/list-not-found")
    events = api.backend.contacts.repository.event_store.get(UUID(list_id))
    assert [type(e).__name__ for e in events] == ["Created", "Renamed", "Deleted"]


def test_a_blank_list_name_is_refused(api: ApiHarness) -> None:
    customer = api.register()
    response = api.client.post("/v1/lists", json={"name": "   "}, headers=customer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_recipient_is_found_by_its_number_in_any_format(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={"recipients": [{"number": "0171/2345678", "fields": {"Vorname": "Anna"}}]},
        headers=customer.headers,
    )
    for typed in ("+49 171 2345678", "00491712345678", "0171-234 56 78", "1712345678"):
        found = api.client.get(
            f"/v1/lists/{list_id}/recipients", params={"number": typed}, headers=customer.headers
        ).json()["items"]
        assert [(r["number"], r["fields"]) for r in found] == [
            ("00491712345678", {"vorname": "Anna"})
        ]
    other = api.client.get(
        f"/v1/lists/{list_id}/recipients",
        params={"number": "0160 1234567"},
        headers=customer.headers,
    )
    assert other.json()["items"] == []


def test_adding_a_number_again_merges_it_and_its_non_blank_fields_win(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    url = f"/v1/lists/{list_id}/recipients"
    first = api.client.post(
        url,
        json={
            "recipients": [
                {"number": "0171 2345678", "fields": {"Vorname": "Anna", "Nachname": "Müller"}}
            ]
        },
        headers=customer.headers,
    )
    again = api.client.post(
        url,
        json={
            "recipients": [
                {"number": "+491712345678", "fields": {"Nachname": "Schmidt", "Vorname": ""}},
                {"number": "0049 171 2345678", "fields": {"Ort": "Köln"}},
            ]
        },
        headers=customer.headers,
    ).json()
    assert (again["added"], again["merged"]) == (0, 2)
    assert again["ids"] == [first.json()["ids"][0]] * 2
    (only,) = recipients(api, customer, list_id)
    assert only["fields"] == {"vorname": "Anna", "nachname": "Schmidt", "ort": "Köln"}
    listed = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()
    assert listed["recipients"] == 1
    assert listed["fields"] == ["vorname", "nachname", "ort"]


def test_an_invalid_number_refuses_the_whole_request_with_its_reason(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    response = api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={"recipients": [{"number": "0171 2345678"}, {"number": "0171"}]},
        headers=customer.headers,
    )
    assert response.status_code == 422
    assert response.json()["reason"] == "not_assigned"
    assert "0171" not in response.text
    assert recipients(api, customer, list_id) == []


def test_pasted_numbers_are_added_and_the_invalid_lines_reported(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    pasted = "0171 2345678\n\n+49 160 1234567\nkeine Nummer\n0171/2345678\n"
    response = api.client.post(
        f"/v1/lists/{list_id}/recipients", json={"pasted": pasted}, headers=customer.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["added"], body["merged"]) == (2, 1)
    assert body["rejected"] == [{"line": 4, "reason": "not_a_number"}]
    assert set(by_number(recipients(api, customer, list_id))) == {
        "+491712345678",
        "+491601234567",
    }


def test_a_recipients_number_and_fields_are_changed_and_removed(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    url = f"/v1/lists/{list_id}/recipients"
    (rid,) = api.client.post(
        url,
        json={"recipients": [{"number": "0171 2345678", "fields": {"Vorname": "A", "Ort": "K"}}]},
        headers=customer.headers,
    ).json()["ids"]
    changed = api.client.patch(
        f"{url}/{rid}",
        json={"number": "0160 1234567", "fields": {"Ort": None, "Nachname": "B"}},
        headers=customer.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["number"] == "00491601234567"
    assert changed.json()["fields"] == {"vorname": "A", "nachname": "B"}
    assert api.client.delete(f"{url}/{rid}", headers=customer.headers).status_code == 204
    assert api.client.get(f"{url}/{rid}", headers=customer.headers).status_code == 404
    count = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()["recipients"]
    assert count == 0


def test_changing_a_number_to_one_already_in_the_list_is_a_conflict(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    url = f"/v1/lists/{list_id}/recipients"
    first, second = api.client.post(
        url,
        json={"recipients": [{"number": "0171 2345678"}, {"number": "0160 1234567"}]},
        headers=customer.headers,
    ).json()["ids"]
    clash = api.client.patch(
        f"{url}/{second}", json={"number": "+491712345678"}, headers=customer.headers
    )
    assert clash.status_code == 409
    assert clash.json()["recipient_id"] == first


def test_recipients_are_paged_in_a_stable_order_with_a_cursor(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    numbers = [f"0171 23456{i:02d}" for i in range(25)]
    api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={"recipients": [{"number": n} for n in numbers]},
        headers=customer.headers,
    )
    seen: list[int] = []
    cursor, pages = None, 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = api.client.get(
            f"/v1/lists/{list_id}/recipients", params=params, headers=customer.headers
        ).json()
        seen.extend(item["id"] for item in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen)


def test_recipient_ids_are_numbers_per_list_that_tell_nothing_of_others(api: ApiHarness) -> None:
    alice, bob = api.register(), api.register()
    alices, bobs = create_list(api, alice), create_list(api, bob)

    def add(customer: Customer, list_id: str, numbers: list[str]) -> None:
        added = api.client.post(
            f"/v1/lists/{list_id}/recipients",
            json={"recipients": [{"number": n} for n in numbers]},
            headers=customer.headers,
        )
        assert added.status_code in (200, 201), added.text

    add(alice, alices, ["0171 2345678", "0160 1234567"])
    add(bob, bobs, ["0171 2345678"])
    add(alice, alices, ["0151 12345678"])
    import_file(api, bob, bobs, b"Handy\n0176 98765432\n0170 1111111\n")
    alice_ids = sorted(r["id"] for r in recipients(api, alice, alices))
    bob_ids = sorted(r["id"] for r in recipients(api, bob, bobs))
    assert alice_ids == [1, 2, 3]
    assert bob_ids == [1, 2, 3]
    removed = api.client.delete(f"/v1/lists/{alices}/recipients/3", headers=alice.headers)
    assert removed.status_code == 204
    add(alice, alices, ["0175 5555555"])
    assert sorted(r["id"] for r in recipients(api, alice, alices)) == [1, 2, 4]  # never reused
