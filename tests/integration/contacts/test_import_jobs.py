"""Import jobs: all or nothing, the importing mark, several workers, the process pool."""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID

import pytest

from adapters.contacts import importer, jobs, parallel, staging
from adapters.contacts.parallel import RowPool
from tests.support.api import ApiHarness, Customer
from tests.support.contacts import (
    contact_services,
    create_list,
    import_file,
    recipients,
    run_until_done,
    upload,
)


def _seeded_list(api: ApiHarness) -> tuple[Customer, str, list[dict[str, Any]]]:
    customer = api.register()
    list_id = create_list(api, customer)
    import_file(api, customer, list_id, b"Handy;Vorname\n0171 2345678;Anna\n0160 1234567;Bernd\n")
    return customer, list_id, recipients(api, customer, list_id)


def test_an_import_that_fails_leaves_the_list_exactly_as_it_was(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer, list_id, before = _seeded_list(api)
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    job = import_file(
        api,
        customer,
        list_id,
        b"Handy;Vorname\n0171 2345678;Anja\n0170 1111111;C\n0170 2222222;D\n0170 3333333;E\n",
    )
    assert job["state"] == "failed"
    assert job["error"]["code"] == "too_many_rows"
    assert recipients(api, customer, list_id) == before
    listed = api.client.get(f"/v1/lists/{list_id}", headers=customer.headers).json()
    assert (listed["recipients"], listed["importing"]) == (2, False)


def test_a_crash_in_the_last_step_rolls_everything_back_and_the_job_is_retried(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer, list_id, before = _seeded_list(api)
    real_merge = staging.merge_existing

    def crash(*args: Any) -> int:
        real_merge(*args)
        raise ConnectionError("PostgreSQL went away")

    monkeypatch.setattr(importer, "merge_existing", crash)
    response = upload(api, customer, list_id, b"Handy;Vorname\n0171 2345678;Anja\n0170 1111111;C\n")
    job_id = response.json()["id"]
    run_until_done(api, job_id)
    assert recipients(api, customer, list_id) == before
    queued = api.client.get(f"/v1/imports/{job_id}", headers=customer.headers).json()
    assert queued["state"] == "queued"

    monkeypatch.setattr(importer, "merge_existing", real_merge)
    run_until_done(api, job_id)
    done = api.client.get(f"/v1/imports/{job_id}", headers=customer.headers).json()
    assert (done["state"], done["imported"], done["merged"]) == ("done", 1, 1)
    assert len(recipients(api, customer, list_id)) == 3


def test_while_an_import_is_queued_the_list_is_importing_and_refuses_changes(
    api: ApiHarness,
) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    job = upload(api, customer, list_id, b"Handy\n0171 2345678\n").json()
    assert job["state"] == "queued"
    url = f"/v1/lists/{list_id}"
    assert api.client.get(url, headers=customer.headers).json()["importing"] is True
    refused = [
        api.client.post(
            f"{url}/recipients",
            json={"recipients": [{"number": "0160 1234567"}]},
            headers=customer.headers,
        ),
        api.client.delete(url, headers=customer.headers),
        upload(api, customer, list_id, b"Handy\n0160 1234567\n"),
    ]
    for response in refused:
        assert response.status_code == 409, response.text
        assert response.json()["type"].endswith("/list-importing")
    run_until_done(api, job["id"])
    assert api.client.get(url, headers=customer.headers).json()["importing"] is False
    events = api.backend.contacts.repository.event_store.get(UUID(list_id))
    imported = [e for e in events if type(e).__name__ == "Imported"]
    assert [(e.job_id, e.imported, e.actor) for e in imported] == [  # type: ignore[attr-defined]
        (UUID(job["id"]), 1, f"customer:{customer.key.split('_')[1]}")
    ]


def test_two_workers_never_claim_the_same_job(api: ApiHarness) -> None:
    customer = api.register()
    pool = contact_services(api).pool
    for name in ("A", "B"):
        list_id = create_list(api, customer, name)
        assert upload(api, customer, list_id, b"Handy\n0171 2345678\n").status_code == 202
    first, second = jobs.claim_next(pool), jobs.claim_next(pool)
    assert first is not None
    assert second is not None
    assert first.job_id != second.job_id
    runner = contact_services(api).runner()
    for claim in (first, second):
        assert runner.run(claim) is not None


def test_a_worker_that_lost_its_claim_cannot_finish_the_job(api: ApiHarness) -> None:
    customer = api.register()
    list_id = create_list(api, customer)
    job_id = upload(api, customer, list_id, b"Handy\n0171 2345678\n").json()["id"]
    pool = contact_services(api).pool
    stale = jobs.claim_next(pool)
    while stale is not None and str(stale.job_id) != job_id:
        contact_services(api).runner().run(stale)
        stale = jobs.claim_next(pool)
    assert stale is not None
    with pool.connection() as conn:  # the worker looks dead: its heartbeat is old
        conn.execute(
            "UPDATE contact_imports SET heartbeat_at = now() - interval '1 hour' WHERE id = %s",
            (stale.job_id,),
        )
    fresh = jobs.claim_next(pool)
    assert fresh is not None
    assert fresh.job_id == stale.job_id
    runner = contact_services(api).runner()
    assert runner.run(stale) is None
    assert runner.run(fresh) is not None
    assert len(recipients(api, customer, list_id)) == 1


def _big_file(rows: int) -> bytes:
    rng = random.Random(7)
    lines = ["Vorname;Handy;Notiz"]
    for i in range(rows):
        roll = rng.random()
        number = (
            "kaputt"
            if roll < 0.02
            else f"0171 {rng.randrange(10**6, 10**7)}"
            if roll < 0.6
            else f"+49 160 {rng.randrange(10**6, 10**7)}"
        )
        note = f'"Zeile {i}\nmit Umbruch; und Semikolon"' if i % 97 == 0 else f"n{i}"
        lines.append(f"Name{i};{number};{note}")
    return "\n".join(lines).encode()


def test_the_process_pool_imports_exactly_what_one_process_imports(
    api: ApiHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = _big_file(12_000)
    customer = api.register()
    alone, pooled = create_list(api, customer, "alone"), create_list(api, customer, "pooled")
    single = import_file(api, customer, alone, content)

    monkeypatch.setattr(parallel, "PARALLEL_FROM_CHARS", 1000)
    monkeypatch.setattr(parallel, "SLICE", 1000)
    job_id = upload(api, customer, pooled, content).json()["id"]
    row_pool = RowPool(2)
    try:
        worker = contact_services(api).runner(row_pool)
        while (ran := worker.run_next()) is not None and str(ran.job_id) != job_id:
            pass
        assert row_pool._executor is not None  # the pool did the work
    finally:
        row_pool.close()
    multi = api.client.get(f"/v1/imports/{job_id}", headers=customer.headers).json()

    counts = ("rows_read", "imported", "merged", "rejected")
    assert [multi[c] for c in counts] == [single[c] for c in counts]
    assert single["rejected"] > 0
    assert single["merged"] > 0

    def content_of(list_id: str) -> list[tuple[str, dict[str, str]]]:
        return sorted((r["e164"], r["fields"]) for r in recipients(api, customer, list_id))

    assert content_of(pooled) == content_of(alone)
    reports = [
        api.client.get(f"/v1/imports/{j}/rejections.csv", headers=customer.headers).text
        for j in (single["id"], job_id)
    ]
    assert reports[0] == reports[1]
