"""Batched deterministic ids are exactly the ids derived one at a time."""

from __future__ import annotations

from uuid import UUID, uuid5

from hypothesis import given
from hypothesis import strategies as st

from domain.ids import message_id, message_ids, uuid5_many
from domain.personal import recipient_key_id, recipient_key_ids


@given(st.uuids(), st.lists(st.text(max_size=80), max_size=50))
def test_uuid5_many_is_uuid5(namespace: UUID, names: list[str]) -> None:
    assert uuid5_many(namespace, names) == [uuid5(namespace, name) for name in names]


@given(st.uuids(), st.integers(0, 300))
def test_message_ids_are_message_id_by_index(send_id: UUID, count: int) -> None:
    assert message_ids(send_id, count) == [message_id(send_id, i) for i in range(count)]


@given(st.uuids(), st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)))
def test_recipient_key_ids_are_recipient_key_id(account_id: UUID, hashes: list[str]) -> None:
    assert recipient_key_ids(account_id, hashes) == [
        recipient_key_id(account_id, h) for h in hashes
    ]
