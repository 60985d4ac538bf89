from __future__ import annotations

import msgspec
from litestar import Litestar, get, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS, PROBLEM_JSON, ProblemError


class Payload(msgspec.Struct):
    count: int


@get("/boom")
async def boom() -> None:
    raise RuntimeError("secret internals")


@get("/teapot")
async def teapot() -> None:
    raise ProblemError(418, "teapot", "I am a teapot", "short and stout", spout=1)


@post("/payload")
async def payload(data: JSONBody[Payload]) -> int:
    return data.count


app = Litestar([boom, teapot, payload], exception_handlers=EXCEPTION_HANDLERS)


def test_an_unknown_route_is_a_404_problem() -> None:
    with TestClient(app) as client:
        response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/http-404")
    assert body["instance"] == "/nowhere"


def test_an_invalid_body_is_a_422_problem_listing_the_field() -> None:
    with TestClient(app) as client:
        response = client.post("/payload", json={"count": "many"})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == PROBLEM_JSON
    assert body["type"].endswith("/validation")
    assert any("count" in str(error) for error in body["errors"])


def test_an_unexpected_error_is_a_500_that_reveals_nothing() -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert "secret internals" not in response.text
    assert body["incident"] in body["detail"]


def test_a_problem_error_keeps_its_status_and_extra_members() -> None:
    with TestClient(app) as client:
        response = client.get("/teapot")
    assert response.status_code == 418
    body = response.json()
    assert body == {
        "type": "https://kontor.dev/problems/teapot",
        "title": "I am a teapot",
        "status": 418,
        "instance": "/teapot",
        "detail": "short and stout",
        "spout": 1,
    }
