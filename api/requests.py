"""The request class of the API: a body that is not JSON is the client's fault, always a 400.

Litestar turns a syntax error into a 400 itself, but lets bytes that are not UTF-8
(``UnicodeDecodeError``) and a document nested deeper than the decoder's stack
(``RecursionError``) escape as 500s. Every JSON body is read through ``json()``, so catching them
here covers every POST, PUT and PATCH endpoint at once.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from api.errors import ProblemError


class MalformedBodyError(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(400, "malformed-body", "The request body is not valid JSON", detail)


class KontorRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise MalformedBodyError("the body is not valid UTF-8") from None
        except RecursionError:
            raise MalformedBodyError("the body is nested too deeply") from None
        except SerializationException as exc:
            raise MalformedBodyError(f"the body is not valid JSON: {exc.detail}") from None
