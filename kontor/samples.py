"""A registration as a client would post it (``POST /v1/accounts``), for the benchmarks, the
chaos run and the tests: every field the form asks for, filled in plausibly."""

from __future__ import annotations

from typing import Any

from settings import Settings

SAMPLE_PASSWORD = "Sonnenblume-Tasse-42"  # noqa: S105 - a sample, nobody's secret


def registration(username: str, **fields: Any) -> dict[str, Any]:
    """A person's registration under ``username`` (its e-mail address derives from it, so that
    each is unique); ``fields`` replace or add members (``kind="company", company=...``)."""
    defaults = Settings()
    body: dict[str, Any] = {
        "kind": "person",
        "salutation": "frau",
        "first_name": "Eva",
        "last_name": "Lang",
        "street": "Hauptstraße 1",
        "postcode": "10115",
        "city": "Berlin",
        "country": "DE",
        "email": f"{username}@example.de",
        "phone": "+49 30 1234567",
        "username": username,
        "password": SAMPLE_PASSWORD,
        "accepted_terms": defaults.terms_version,
        "accepted_privacy": defaults.privacy_version,
    }
    return body | fields
