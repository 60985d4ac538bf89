"""The request class of the API: a body that is not JSON is the client's fault, always a 400.

Litestar turns a syntax error into a 400 itself, but lets bytes that are not UTF-8
(``UnicodeDecodeError``) and a document nested deeper than the decoder's stack
(``RecursionError``) escape as 500s. Every JSON body is read through ``json()``, so catching them
here covers every POST, PUT and PATCH endpoint at once.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import SerializationException, ValidationException

from api.errors import ProblemError


class MalformedBodyError(ProblemError):
    def __init__(self, detail: str) -> None:
        super().__init__(400, "malformed-body", "The request body is not valid JSON", detail)


class KontorRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        try:
            value = await super().json()
        except UnicodeDecodeError:
            raise MalformedBodyError("the body is not valid UTF-8") from None
        except RecursionError:
            raise MalformedBodyError("the body is nested too deeply") from None
        except SerializationException as exc:
            raise MalformedBodyError(f"the body is not valid JSON: {exc.detail}") from None
        _check_strictly(self, value)
        return value


_PATH = re.compile(r"at `\$\.?([^`]*)`")


def _check_strictly(request: Request[Any, Any, Any], value: Any) -> None:
    """Hold the body to its schema's types exactly.

    Litestar converts a decoded body leniently (``"normalize": 0`` became ``False``, ``"1"``
    an integer), so the API accepted what its document refuses. Converting strictly first
    refuses those, as a 422 naming the field like every other validation error.
    """
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    if data is None or value is None:
        return
    try:
        msgspec.convert(value, type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _PATH.search(message)
        key = found.group(1) if found and found.group(1) else "data"
        raise ValidationException(
            detail=f"Validation failed for {request.method} {request.url.path}",
            extra=[
                {"message": message.split(" - at ", maxsplit=1)[0], "key": key, "source": "body"}
            ],
        ) from None
