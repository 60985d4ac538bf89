"""Erasure of one person and crypto-shredding of an account: nothing readable is left."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event
from psycopg import sql

from adapters.crypto.personal_keys import recipient_keys
from adapters.postgres.eventstore import attach_keyring, event_store_env
from domain.base import KontorApplication
from domain.personal import PersonalData
from tests.support.api import ApiHarness
from tests.support.contacts import (
    contact_services,
    create_list,
    import_file,
    recipients,
    run_until_done,
    upload,
)

NUMBER = "+491712345678"
FORMS = (NUMBER, "01712345678", "00491712345678", "0171 2345678", "1712345678")
NAME = "Quellenbrunn"


class SentMessage(Aggregate):
    """What the send pipeline will record: number and text under the per-recipient key."""

    class Accepted(Aggregate.Created):
        number: PersonalData
        text: PersonalData

    @event(Accepted)
    def __init__(self, number: PersonalData, text: PersonalData) -> None:
        self.number = number
        self.text = text


class Messages(KontorApplication):
    pass


def _texts_in_database(url: str) -> list[str]:
    """Every row of every table, as text (bytea shows as hex)."""
    texts: list[str] = []
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
        for (table,) in tables:
            query = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(table))
            texts.extend(row[0] for row in conn.execute(query))
    return texts


def _leaks(texts: list[str], needles: tuple[str, ...]) -> list[str]:
    forms = [*needles, *(n.encode().hex() for n in needles)]
    return [form for form in forms for text in texts if form in text]


def test_an_erased_person_leaves_no_readable_trace_but_stays_suppressed(
    fresh_api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    api = fresh_api
    caplog.set_level(logging.DEBUG)
    customer = api.register()
    account_id = UUID(customer.account_id)
    keyring = api.backend.keyring
    first, second = create_list(api, customer, "Newsletter"), create_list(api, customer, "VIP")
    job = import_file(
        api,
        customer,
        first,
        (
            f"Handy;Vorname;Nachname;Notiz\n0171 2345678;Zacharias;{NAME};\n"
            "0160 1234567;Anna;Müller;\n"
            f"01712345678;Z;{NAME};{'x' * 1001}\n"  # rejected: its report row names the number
        ).encode(),
    )
    api.client.post(
        f"/v1/lists/{second}/recipients",
        json={"recipients": [{"number": "0049 171 2345678", "fields": {"Nachname": NAME}}]},
        headers=customer.headers,
    )
    api.client.post("/v1/opt-outs", json={"number": "0171/2345678"}, headers=customer.headers)
    number_hash = keyring.lookup_hash(account_id, NUMBER)
    key_id = recipient_keys(keyring, account_id, [number_hash])[number_hash]
    messages = Messages(env=event_store_env(api.settings.database_url))
    attach_keyring(messages, keyring)
    sent = SentMessage(PersonalData(key_id, NUMBER), PersonalData(key_id, f"Hallo Herr {NAME}"))
    messages.save(sent)
    assert _leaks(_texts_in_database(str(api.settings.database_url)), (*FORMS, NAME)) == []
    before = api.client.get(job["rejections_url"], headers=customer.headers).text
    assert before.splitlines()[1:] == ["4;field_too_long;01712345678"]

    erased = api.client.post(
        "/v1/privacy/erasures", json={"number": "+49 (0)171 234 5678"}, headers=customer.headers
    )

    assert erased.status_code == 201, erased.text
    assert erased.json() | {"id": None} == {
        "id": None,
        "lists": 2,
        "opted_out": True,
        "key_shredded": True,
    }
    for list_id in (first, second):
        assert NUMBER not in {r["e164"] for r in recipients(api, customer, list_id)}
    assert [r["e164"] for r in recipients(api, customer, first)] == ["+491601234567"]
    counts = [
        api.client.get(f"/v1/lists/{i}", headers=customer.headers).json()["recipients"]
        for i in (first, second)
    ]
    assert counts == [1, 0]
    replayed = _reloaded(api, keyring, sent.id)
    assert replayed.number.redacted
    assert replayed.text.shown() == "[redacted]"
    assert contact_services(api).suppressed_hashes(account_id, [number_hash]) == {number_hash}
    (opt_out,) = api.client.get("/v1/opt-outs", headers=customer.headers).json()["items"]
    assert (opt_out["number"], opt_out["redacted"]) == ("[redacted]", True)

    report = api.client.get(job["rejections_url"], headers=customer.headers).text
    assert report.splitlines()[1:] == []
    texts = _texts_in_database(str(api.settings.database_url))
    assert _leaks(["(1,\\x" + NUMBER.encode().hex() + ")"], FORMS)  # the search does find
    assert _leaks(texts, (*FORMS, NAME)) == []
    assert any(number_hash in text for text in texts)  # the keyed hash keeps suppressing
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert [form for form in (*FORMS, NAME) if form in logged] == []
    events = [
        type(e).__name__
        for e in api.backend.contacts.repository.event_store.get(UUID(opt_out["id"]))
    ]
    assert events == ["Recorded", "NumberErased"]


def _reloaded(api: ApiHarness, keyring: Any, aggregate_id: UUID) -> SentMessage:
    fresh = Messages(env=event_store_env(api.settings.database_url))
    attach_keyring(fresh, keyring)
    keyring.forget_cached()
    message: SentMessage = fresh.repository.get(aggregate_id)
    return message


def test_shredding_the_account_key_makes_every_recipient_unreadable(api: ApiHarness) -> None:
    customer = api.register()
    account_id = UUID(customer.account_id)
    list_id = create_list(api, customer)
    import_file(api, customer, list_id, b"Handy;Vorname\n0171 2345678;Anna\n0160 1234567;Bernd\n")
    api.client.post("/v1/opt-outs", json={"number": "0151 12345678"}, headers=customer.headers)
    queued = upload(api, customer, list_id, b"Handy\n0170 1111111\n").json()

    api.backend.keyring.shred_account(account_id)
    # Other processes (here: the API's) keep an unwrapped key for up to 30 s; start afresh.
    api.client.app.state.ctx.backend.keyring.forget_cached()

    rows = recipients(api, customer, list_id)
    assert len(rows) == 2
    assert {(r["number"], r["e164"], r["redacted"]) for r in rows} == {("[redacted]", None, True)}
    assert all(r["fields"] == {} for r in rows)
    export = api.client.get(f"/v1/lists/{list_id}/export.csv", headers=customer.headers)
    assert export.content.decode("utf-8-sig").splitlines() == ["Rufnummer;vorname"]
    assert list(contact_services(api).iter_recipients(account_id, UUID(list_id))) == []
    (opt_out,) = api.client.get("/v1/opt-outs", headers=customer.headers).json()["items"]
    assert opt_out["redacted"] is True
    run_until_done(api, queued["id"])
    failed = api.client.get(f"/v1/imports/{queued['id']}", headers=customer.headers).json()
    assert (failed["state"], failed["error"]["code"]) == ("failed", "shredded")


def test_a_person_erased_in_one_account_stays_in_another(api: ApiHarness) -> None:
    first, second = api.register(), api.register()
    lists = {}
    for customer in (first, second):
        lists[customer.account_id] = create_list(api, customer)
        api.client.post(
            f"/v1/lists/{lists[customer.account_id]}/recipients",
            json={"recipients": [{"number": "0171 2345678"}]},
            headers=customer.headers,
        )
    api.client.post("/v1/privacy/erasures", json={"number": NUMBER}, headers=first.headers)
    assert recipients(api, first, lists[first.account_id]) == []
    assert [r["e164"] for r in recipients(api, second, lists[second.account_id])] == [NUMBER]
