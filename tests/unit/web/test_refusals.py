"""Refusals on the pages: said in the reader's language with their members formatted for
them, and as the API says them where the pages have no words of their own."""

from __future__ import annotations

from uuid import uuid4

import pytest

from api.web.forms import refusal_of
from api.web.i18n import RefusalDetail, Texts
from domain.contacts.exceptions import ListNotFoundError
from domain.ledger.exceptions import InsufficientCreditError
from domain.messaging.exceptions import IdempotencyConflictError


def test_a_refusal_is_said_in_german_with_its_amounts_formatted() -> None:
    refused = refusal_of(InsufficientCreditError(required=12_340, available=2_340))
    assert refused.status == 402
    assert refused.detail.slug == "insufficient-credit"
    assert Texts("de").refusal(refused.detail) == "Das Guthaben reicht nicht: es fehlen 1,00\xa0€."
    assert Texts("en").refusal(refused.detail) == "The credit is not enough: €1.00 are missing."


def test_a_refusal_the_pages_have_no_words_for_is_said_as_the_api_says_it() -> None:
    detail = RefusalDetail("the API's own words", "something-new", {})
    assert Texts("de").refusal(detail) == "the API's own words"
    missing_member = RefusalDetail("said plainly", "too-many-recipients", {"count": 3})
    assert Texts("de").refusal(missing_member) == "said plainly"


def test_only_the_platform_s_refusals_are_said_at_a_form() -> None:
    assert refusal_of(ListNotFoundError(uuid4())).status == 404
    assert refusal_of(IdempotencyConflictError("k")).detail.slug == "idempotency-key-reused"
    with pytest.raises(RuntimeError):
        refusal_of(RuntimeError("a fault of the machine"))
