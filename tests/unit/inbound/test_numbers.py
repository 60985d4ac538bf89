"""The pool of dedicated inbound numbers: numbers as sends keep them, each assigned to one
account at most, released back to the pool; kept in the event store."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.inbound.application import Inbound
from domain.inbound.numbers import InboundNumberError, NumberTakenError, number_of


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("+49 1579 0001", "4915790001"),
        ("0049-1579-0001", "4915790001"),
        ("4915790001", "4915790001"),
    ],
)
def test_numbers_are_kept_as_digits(raw: str, kept: str) -> None:
    assert number_of(raw) == kept


@pytest.mark.parametrize("raw", ["", "+49", "01579 0001", "abc", "+" + "9" * 16])
def test_what_is_no_international_number_is_refused(raw: str) -> None:
    with pytest.raises(InboundNumberError):
        number_of(raw)


def test_a_number_is_assigned_to_one_account_and_released() -> None:
    inbound = Inbound(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    first, second = uuid4(), uuid4()
    assert inbound.numbers().assigned == {}
    inbound.change_numbers(lambda pool: pool.add("4915790001", "staff:anna"))
    with pytest.raises(InboundNumberError, match="already"):
        inbound.change_numbers(lambda pool: pool.add("4915790001", "staff:anna"))
    inbound.change_numbers(lambda pool: pool.assign("4915790001", first, "staff:anna"))
    inbound.change_numbers(lambda pool: pool.assign("4915790001", first, "staff:anna"))
    with pytest.raises(NumberTakenError):
        inbound.change_numbers(lambda pool: pool.assign("4915790001", second, "staff:anna"))
    assert inbound.numbers().of_account(first) == ["4915790001"]
    inbound.change_numbers(lambda pool: pool.release("4915790001", "staff:anna"))
    assert inbound.numbers().account_for("4915790001") is None
    with pytest.raises(InboundNumberError, match="not in the pool"):
        inbound.change_numbers(lambda pool: pool.assign("4900000000", first, "staff:anna"))
