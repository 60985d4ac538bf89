"""Helpers for the Contacts tests: speak to the API as a customer does, run the imports worker."""

from __future__ import annotations

from typing import Any

from adapters.contacts.runner import ImportRunner
from adapters.contacts.services import ContactServices
from tests.support.api import ApiHarness, Customer


def contact_services(api: ApiHarness) -> ContactServices:
    services = api.backend.contact_services
    assert services is not None
    return services


def runner(api: ApiHarness) -> ImportRunner:
    return contact_services(api).runner()


def create_list(api: ApiHarness, customer: Customer, name: str = "Kunden") -> str:
    response = api.client.post("/v1/lists", json={"name": name}, headers=customer.headers)
    assert response.status_code == 201, response.text
    list_id: str = response.json()["id"]
    return list_id


def upload(
    api: ApiHarness,
    customer: Customer,
    list_id: str,
    content: bytes,
    filename: str = "kunden.csv",
    content_type: str = "text/csv",
) -> Any:
    return api.client.post(
        f"/v1/lists/{list_id}/imports",
        files={"file": (filename, content, content_type)},
        headers=customer.headers,
    )


def import_file(
    api: ApiHarness,
    customer: Customer,
    list_id: str,
    content: bytes,
    filename: str = "kunden.csv",
) -> dict[str, Any]:
    """Upload, let the worker's code path run the job, and return the finished job."""
    response = upload(api, customer, list_id, content, filename)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    run_until_done(api, job_id)
    job = api.client.get(f"/v1/imports/{job_id}", headers=customer.headers)
    assert job.status_code == 200, job.text
    body: dict[str, Any] = job.json()
    return body


def run_until_done(api: ApiHarness, job_id: str) -> None:
    """Run queued jobs (other tests' too: the session shares a database) until ``job_id``."""
    worker = runner(api)
    while (ran := worker.run_next()) is not None:
        if str(ran.job_id) == job_id:
            return
    raise AssertionError(f"job {job_id} was not queued")


def recipients(api: ApiHarness, customer: Customer, list_id: str) -> list[dict[str, Any]]:
    """Every recipient of the list, following the cursor."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = api.client.get(
            f"/v1/lists/{list_id}/recipients", params=params, headers=customer.headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        found.extend(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            return found


def by_number(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["e164"]: item for item in items}
