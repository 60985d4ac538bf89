"""Opt-outs, the send pipeline's interfaces (suppression check, list iterator), exports."""

from __future__ import annotations

import csv
import io
from uuid import UUID

from adapters.csvsafe import unescape
from tests.support.api import ApiHarness
from tests.support.contacts import contact_services, create_list, import_file, recipients


def test_an_opted_out_number_is_suppressed_until_a_recorded_withdrawal(api: ApiHarness) -> None:
    customer = api.register()
    account_id = UUID(customer.account_id)
    keyring = api.backend.keyring
    first = api.client.post(
        "/v1/opt-outs", json={"number": "0171 2345678"}, headers=customer.headers
    )
    again = api.client.post(
        "/v1/opt-outs", json={"number": "+49 171 2345678"}, headers=customer.headers
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    hashes = [keyring.lookup_hash(account_id, n) for n in ("+491712345678", "+491601234567")]
    services = contact_services(api)
    assert services.suppressed_hashes(account_id, hashes) == {hashes[0]}

    found = api.client.get(
        "/v1/opt-outs", params={"number": "00491712345678"}, headers=customer.headers
    ).json()["items"]
    assert [(o["number"], o["source"]) for o in found] == [("00491712345678", "customer")]
    no_reason = api.client.delete(f"/v1/opt-outs/{first.json()['id']}", headers=customer.headers)
    assert no_reason.status_code == 422
    assert services.suppressed_hashes(account_id, hashes) == {hashes[0]}

    withdrawn = api.client.delete(
        f"/v1/opt-outs/{first.json()['id']}",
        params={"reason": "Kundin hat wieder eingewilligt"},
        headers=customer.headers,
    )
    assert withdrawn.status_code == 204
    assert services.suppressed_hashes(account_id, hashes) == set()
    gone = api.client.delete(
        f"/v1/opt-outs/{first.json()['id']}", params={"reason": "x"}, headers=customer.headers
    )
    assert gone.status_code == 404
    events = list(api.backend.contacts.repository.event_store.get(UUID(first.json()["id"])))
    assert [type(e).__name__ for e in events] == ["Recorded", "Withdrawn"]
    assert events[1].reason == "Kundin hat wieder eingewilligt"  # type: ignore[attr-defined]


def test_the_suppression_check_takes_a_whole_batch_in_one_query(api: ApiHarness) -> None:
    customer = api.register()
    account_id = UUID(customer.account_id)
    keyring = api.backend.keyring
    opted = [f"+49171{i:07d}" for i in range(0, 60, 7)]
    for number in opted:
        api.client.post("/v1/opt-outs", json={"number": number}, headers=customer.headers)
    batch = {keyring.lookup_hash(account_id, f"+49171{i:07d}"): i for i in range(60)}
    suppressed = contact_services(api).suppressed_hashes(account_id, list(batch))
    assert sorted(batch[h] for h in suppressed) == list(range(0, 60, 7))


def test_the_recipient_iterator_yields_every_recipient_once_in_stable_batches(
    api: ApiHarness,
) -> None:
    customer = api.register()
    account_id = UUID(customer.account_id)
    list_id = create_list(api, customer)
    lines = ["Handy;Vorname"] + [f"0171 {1000000 + i};Name {i}" for i in range(250)]
    import_file(api, customer, list_id, "\n".join(lines).encode())
    api.client.post("/v1/opt-outs", json={"number": "0171 1000007"}, headers=customer.headers)
    services = contact_services(api)

    batches = list(services.iter_recipients(account_id, UUID(list_id), batch_size=100))
    assert [len(b) for b in batches] == [100, 100, 50]
    flat = [r for batch in batches for r in batch]
    assert [r.id for r in flat] == sorted(r.id for r in flat)
    assert {r.e164 for r in flat} == {f"+49171{1000000 + i}" for i in range(250)}
    one = next(r for r in flat if r.e164 == "+491711000007")
    assert one.opted_out
    assert one.fields == {"vorname": "Name 7"}
    assert one.number_hash == api.backend.keyring.lookup_hash(account_id, one.e164)
    resumed = list(services.iter_recipients(account_id, UUID(list_id), after=flat[149].id))
    assert [r.id for batch in resumed for r in batch] == [r.id for r in flat[150:]]
    assert list(services.iter_recipients(account_id, UUID(list_id))) == [flat]
    assert sum(r.opted_out for r in flat) == 1


def test_the_export_has_0049_numbers_escaped_cells_and_reimports_to_the_same_list(
    api: ApiHarness,
) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    api.client.post(
        f"/v1/lists/{list_id}/recipients",
        json={
            "recipients": [
                {"number": "0171 2345678", "fields": {"Vorname": "=1+2", "Notiz": "@SUM(A1)"}},
                {"number": "+43 664 1234567", "fields": {"Vorname": "Zoë", "Notiz": "-3; ok"}},
            ]
        },
        headers=customer.headers,
    )
    response = api.client.get(f"/v1/lists/{list_id}/export.csv", headers=customer.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffRufnummer;vorname;notiz\r\n")
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    assert sorted(rows[1:]) == [
        ["00436641234567", "Zoë", "'-3; ok"],
        ["00491712345678", "'=1+2", "'@SUM(A1)"],
    ]
    assert [unescape(cell) for cell in sorted(rows[1:])[1]] == [
        "00491712345678",
        "=1+2",
        "@SUM(A1)",
    ]
    events = api.backend.contacts.repository.event_store.get(UUID(list_id))
    exported = [e for e in events if type(e).__name__ == "Exported"]
    assert [e.rows for e in exported] == [2]  # type: ignore[attr-defined]

    copy = create_list(api, customer, "Kopie")
    job = import_file(api, customer, copy, response.content)
    assert (job["imported"], job["rejected"]) == (2, 0)
    assert {r["e164"] for r in recipients(api, customer, copy)} == {
        "+491712345678",
        "+436641234567",
    }


def test_the_template_downloads_and_imports_cleanly(api: ApiHarness) -> None:
    customer = api.register()
    template = api.client.get("/v1/lists/template.csv", headers=customer.headers)
    assert template.status_code == 200
    assert "attachment" in template.headers["content-disposition"]
    list_id = create_list(api, customer)
    job = import_file(api, customer, list_id, template.content)
    assert (job["imported"], job["rejected"]) == (1, 0)
    (row,) = recipients(api, customer, list_id)
    assert row["fields"] == {
        "anrede": "Frau",
        "vorname": "Erika",
        "nachname": "Mustermann",
        "kundennummer": "K-1001",
    }


def test_an_exported_list_imported_again_keeps_its_cells_without_apostrophes(
    api: ApiHarness,
) -> None:
    customer = api.register()
    source, again = create_list(api, customer), create_list(api, customer, "Wieder")
    fields = {"Vorname": "=1+2", "Notiz": "-3; ok", "Zitat": "'selbst"}
    api.client.post(
        f"/v1/lists/{source}/recipients",
        json={"recipients": [{"number": "0171 2345678", "fields": fields}]},
        headers=customer.headers,
    )
    exported = api.client.get(f"/v1/lists/{source}/export.csv", headers=customer.headers)
    job = import_file(api, customer, again, exported.content)
    assert job["state"] == "done", job
    (back,) = recipients(api, customer, again)
    assert back["fields"] == {"vorname": "=1+2", "notiz": "-3; ok", "zitat": "'selbst"}
