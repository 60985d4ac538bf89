"""A list campaign is answered ``202`` at once and accepted in the background chunk by chunk
(the expander's ``ListAcceptance.advance``, run here in the test's process against the real
database): its progress, its refusal, its cancellation, and a stale worker's chunk."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from domain.messaging.list_acceptance import JobState
from services.list_acceptance import ListAcceptance
from tests.support.api import ApiHarness, Customer
from tests.support.contacts import create_list, import_file

PRICE = 790


def acceptance(api: ApiHarness, chunk_size: int = 4) -> ListAcceptance:
    service: ListAcceptance | None = api.client.app.state.ctx.list_acceptance
    assert service is not None
    service.chunk_size = chunk_size
    return service


def customer_with_list(api: ApiHarness, size: int, credit: int = 100_000) -> tuple[Customer, str]:
    """A customer with ``credit`` on top of the trial's and a list of ``size`` numbers."""
    customer = api.register()
    if credit:
        assert api.topup(customer, credit, f"list-{customer.username}").status_code == 201
    list_id = create_list(api, customer)
    rows = "".join(f"Kunde {n};0151 2{n:07d}\n" for n in range(size))
    job = import_file(api, customer, list_id, f"Vorname;Handy\n{rows}".encode())
    assert job["state"] == "done", job
    return customer, list_id


def start(api: ApiHarness, customer: Customer, list_id: str, **extra: Any) -> Any:
    body = {"name": "Advent", "list_id": list_id, "text": "Hallo {vorname}", "sender": "Kontor"}
    return api.client.post("/v1/campaigns", json=body | extra, headers=customer.headers)


def shown(api: ApiHarness, customer: Customer, campaign_id: str) -> dict[str, Any]:
    response = api.client.get(f"/v1/campaigns/{campaign_id}", headers=customer.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def run_to_end(api: ApiHarness, service: ListAcceptance) -> None:
    for _ in range(100):
        if not service.advance(api.clock()):
            return
    raise AssertionError("the acceptance never ended")


def staged_rows(api: ApiHarness, campaign_id: str) -> int:
    pool: Any = api.backend.pool
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT count(*) FROM send_recipients WHERE send_id = %s", (campaign_id,)
        ).fetchone()
    return int(row[0])


def test_a_list_campaign_is_answered_at_once_and_shows_its_acceptance_progress(
    api: ApiHarness,
) -> None:
    service = acceptance(api)
    customer, list_id = customer_with_list(api, 10)
    answered = start(api, customer, list_id)
    assert answered.status_code == 202, answered.text
    body = answered.json()
    assert (body["state"], body["recipients"], body["parts"], body["expected_cost"]) == (
        "accepting", 10, None, None
    )  # fmt: skip
    assert body["acceptance"]["state"] == "accepting"
    campaign_id = body["campaign_id"]

    service.advance(api.clock())  # one chunk
    progress = shown(api, customer, campaign_id)
    assert progress["state"] == "accepting"
    assert (progress["acceptance"]["priced"], progress["acceptance"]["staged"]) == (4, 4)
    listed = api.client.get("/v1/campaigns", headers=customer.headers).json()["campaigns"]
    assert [c["campaign_id"] for c in listed] == [campaign_id]
    messages = api.client.get(f"/v1/campaigns/{campaign_id}/messages", headers=customer.headers)
    assert messages.json()["messages"] == []

    run_to_end(api, service)
    done = shown(api, customer, campaign_id)
    assert done["state"] == "sending"
    assert (done["recipients"], done["parts"], done["expected_cost"]) == (10, 10, 10 * PRICE)
    assert done["acceptance"]["state"] == "accepted"
    assert done["acceptance"]["reserved"] is True
    assert staged_rows(api, campaign_id) == 10
    balance = api.balance(customer)
    assert balance["held"] == 10 * PRICE


def test_a_campaign_beyond_the_credit_is_shown_refused_with_the_problem(api: ApiHarness) -> None:
    service = acceptance(api)
    trial = api.settings.trial_credit
    customer, list_id = customer_with_list(api, trial // PRICE + 3, credit=0)
    campaign_id = start(api, customer, list_id).json()["campaign_id"]
    run_to_end(api, service)
    refused = shown(api, customer, campaign_id)
    assert refused["state"] == "refused"
    problem = refused["acceptance"]["problem"]
    assert problem["type"].endswith("/insufficient-credit")
    assert problem["status"] == 402
    assert problem["shortfall"] == (trial // PRICE + 3) * PRICE - trial
    assert staged_rows(api, campaign_id) == 0
    assert api.balance(customer)["held"] == 0


def test_a_campaign_is_cancelled_while_its_list_is_accepted(api: ApiHarness) -> None:
    service = acceptance(api)
    customer, list_id = customer_with_list(api, 9)
    campaign_id = start(api, customer, list_id).json()["campaign_id"]
    service.advance(api.clock())
    other = api.register()
    path = f"/v1/campaigns/{campaign_id}"
    assert api.client.post(f"{path}/cancel", headers=other.headers).status_code == 404
    assert api.client.get(path, headers=other.headers).status_code == 404
    cancelled = api.client.post(f"{path}/cancel", headers=customer.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "cancelled"
    run_to_end(api, service)
    assert staged_rows(api, campaign_id) == 0
    assert shown(api, customer, campaign_id)["state"] == "cancelled"
    again = api.client.post(f"{path}/cancel", headers=customer.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def test_a_stale_workers_chunk_stages_nothing(api: ApiHarness) -> None:
    service = acceptance(api)
    customer, list_id = customer_with_list(api, 6)
    campaign_id = UUID(start(api, customer, list_id).json()["campaign_id"])
    stale = service.jobs.get(campaign_id)
    assert stale is not None
    service.advance(api.clock())
    assert not service.jobs.save_chunk(stale, replace(stale, read=99), [])
    assert not service.jobs.transition(stale, replace(stale, state=JobState.CANCELLED))
    current = service.jobs.get(campaign_id)
    assert current is not None
    assert (current.state, current.read) == (JobState.ACCEPTING, 4)
    assert staged_rows(api, str(campaign_id)) == 4


def test_a_repeated_request_returns_the_campaign_and_bad_lists_are_refused(
    api: ApiHarness,
) -> None:
    service = acceptance(api)
    customer, list_id = customer_with_list(api, 3)
    key = {"Idempotency-Key": "advent-1"}
    first = api.client.post(
        "/v1/campaigns",
        json={"list_id": list_id, "text": "Hallo {vorname}", "sender": "Kontor"},
        headers=customer.headers | key,
    )
    assert first.status_code == 202, first.text
    run_to_end(api, service)
    again = api.client.post(
        "/v1/campaigns",
        json={"list_id": list_id, "text": "Hallo {vorname}", "sender": "Kontor"},
        headers=customer.headers | key,
    )
    assert again.status_code == 200, again.text
    assert again.json()["campaign_id"] == first.json()["campaign_id"]
    assert (again.json()["repeated"], again.json()["recipients"]) == (True, 3)
    assert api.balance(customer)["held"] == 3 * PRICE

    unknown = start(api, customer, "00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("/list-not-found")
    broken = start(api, customer, list_id, text="Hallo {vorname")
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"


def test_an_empty_list_is_refused_as_no_recipients(api: ApiHarness) -> None:
    service = acceptance(api)
    customer = api.register()
    list_id = create_list(api, customer)
    campaign_id = start(api, customer, list_id).json()["campaign_id"]
    run_to_end(api, service)
    refused = shown(api, customer, campaign_id)
    assert refused["state"] == "refused"
    assert refused["acceptance"]["problem"]["type"].endswith("/no-recipients")
    assert refused["acceptance"]["staged"] == 0
