"""Validation problems speak the request's language, not the handler's."""

from __future__ import annotations

from typing import Annotated

from litestar import Litestar, get
from litestar.params import QueryParameter
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS
from api.query import TextQuery
from api.requests import KontorRequest


@get("/things")
async def things(
    state_: Annotated[int, QueryParameter(name="state", ge=1)] = 1,
    label: TextQuery = None,
) -> int:
    return state_


app = Litestar([things], exception_handlers=EXCEPTION_HANDLERS, request_class=KontorRequest)


def test_an_error_names_the_query_parameter_as_the_client_wrote_it() -> None:
    with TestClient(app) as client:
        response = client.get("/things", params={"state": "0"})
    assert response.status_code == 422
    assert [e["key"] for e in response.json()["errors"]] == ["state"]


def test_a_control_character_is_named_as_such_not_by_the_pattern() -> None:
    with TestClient(app) as client:
        response = client.get("/things", params={"label": "a\x00b"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["key"] == "label"
    assert "control characters" in error["message"]
    assert "regex" not in response.text
