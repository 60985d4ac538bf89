"""``as_of`` after now is refused on the balance and the trial balance, and a statement day
after today too, instead of answering today's figures under the later date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.api import ApiHarness


def test_figures_as_of_the_future_are_a_problem_that_says_so(api: ApiHarness) -> None:
    customer = api.register()
    api.catch_up()
    now = datetime.now(UTC)  # "as of" counts on the event store's clock, the wall clock
    later, earlier = (now + timedelta(days=1)).isoformat(), (now - timedelta(hours=1)).isoformat()
    berlin = now.astimezone(ZoneInfo("Europe/Berlin"))  # statement days are Berlin days
    tomorrow = (berlin + timedelta(days=1)).date().isoformat()
    refused = [
        api.client.get("/v1/account/balance", params={"as_of": later}, headers=customer.headers),
        api.client.get("/v1/finance/trial-balance", params={"as_of": later}, headers=api.finance),
        api.client.get("/v1/account/statement", params={"from": tomorrow},
                       headers=customer.headers),
        api.client.get("/v1/account/statement", params={"to": tomorrow}, headers=customer.headers),
    ]  # fmt: skip
    for response in refused:
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("/as-of-in-future")
        assert "in the future" in response.json()["detail"]
    assert api.balance(customer, as_of=earlier)["as_of"] is not None
    assert api.trial_balance(as_of=earlier)["balanced"] is True
    today = berlin.date().isoformat()
    statement = api.client.get(
        "/v1/account/statement", params={"to": today}, headers=customer.headers
    )
    assert statement.status_code == 200
