"""A body the API cannot decode is a 400 problem; one of the wrong types a 422, never coerced."""

from __future__ import annotations

import msgspec
import pytest
from litestar import Litestar, post
from litestar.params import JSONBody
from litestar.testing import TestClient

from api.errors import EXCEPTION_HANDLERS, PROBLEM_JSON
from api.requests import KontorRequest


class Flags(msgspec.Struct, forbid_unknown_fields=True):
    normalize: bool = False
    count: int = 0


@post("/flags")
async def flags(data: JSONBody[Flags]) -> dict[str, object]:
    return {"normalize": data.normalize, "count": data.count}


app = Litestar([flags], exception_handlers=EXCEPTION_HANDLERS, request_class=KontorRequest)


@pytest.mark.parametrize(
    ("content", "detail"),
    [
        (b'{"normalize": "\xff"}', "not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"normalize": tru', "not valid JSON"),
        (b'{"normalize": "\\ud800"}', "not valid JSON"),
    ],
)
def test_a_body_that_cannot_be_decoded_is_a_400_malformed_body(content: bytes, detail: str) -> None:
    with TestClient(app) as client:
        response = client.post(
            "/flags", content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"].endswith("/malformed-body")
    assert detail in body["detail"]


@pytest.mark.parametrize("body", [{"normalize": 0}, {"normalize": "true"}, {"count": "7"}])
def test_values_of_another_type_are_refused_not_coerced(body: dict[str, object]) -> None:
    with TestClient(app) as client:
        response = client.post("/flags", json=body)
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["key"] == next(iter(body))


def test_a_body_of_the_right_types_passes() -> None:
    with TestClient(app) as client:
        response = client.post("/flags", json={"normalize": True, "count": 7})
    assert response.status_code == 201
    assert response.json() == {"normalize": True, "count": 7}
