"""Staged recipients: a chunk is exactly the asked range of a send's messages, opened to be shown
or still sealed for recording, and a shredded key leaves the staged rows unreadable."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest
from psycopg_pool import ConnectionPool

from adapters.crypto.keyring import Keyring
from adapters.postgres.keys import PostgresKeyStore
from adapters.postgres.send_staging import Staging
from domain.messaging.records import RecordedMessage
from domain.personal import PersonalData, SealedPersonalData

MASTER = bytes(range(32))


def message(index: int, key_id: UUID) -> RecordedMessage:
    return RecordedMessage(
        index=index,
        message_id=uuid4(),
        number_hash=f"hash{index}",
        number=PersonalData(key_id, f"+4915140{index:06d}"),
        text=PersonalData(key_id, f"Hallo Nr. {index}"),
        region="DE",
        encoding="gsm7",
        parts=1,
        price=790,
        delivery_reports=True,
    )


@pytest.fixture
def staging(database_url: str) -> Iterator[Staging]:
    with ConnectionPool(database_url, min_size=1, max_size=2, open=True) as pool:
        staging = Staging(pool, Keyring(MASTER, PostgresKeyStore(pool)))
        staging.setup()
        yield staging


def test_a_chunk_is_the_asked_range_of_the_send_and_no_more(staging: Staging) -> None:
    send_id, other = uuid4(), uuid4()
    keys = [uuid4() for _ in range(1_200)]
    staging.keyring.create_keys(keys)
    messages = [message(i, keys[i]) for i in range(1_200)]
    staging.stage(send_id, messages)
    staging.stage(other, messages[:700])

    middle = staging.chunk(send_id, 500, 500)
    assert [m.index for m in middle] == list(range(500, 1_000))
    assert middle == messages[500:1_000]
    last = staging.sealed_chunk(send_id, 1_000, 500)
    assert [m.index for m in last] == list(range(1_000, 1_200))
    assert staging.chunk(send_id, 1_200, 500) == []


def test_a_sealed_chunk_carries_what_the_keyring_opens_back_to_the_staged_values(
    staging: Staging,
) -> None:
    send_id = uuid4()
    keys = [uuid4() for _ in range(3)]
    staging.keyring.create_keys(keys)
    messages = [message(i, keys[i]) for i in range(3)]
    staging.stage(send_id, messages)

    sealed = staging.sealed_chunk(send_id, 0, 3)
    for got, staged in zip(sealed, messages, strict=True):
        assert isinstance(got.number, SealedPersonalData)
        assert isinstance(got.text, SealedPersonalData)
        assert staging.keyring.open(got.number.key_id, got.number.ciphertext) == (
            (staged.number.value or "").encode()
        )
        assert staging.keyring.open(got.text.key_id, got.text.ciphertext) == (
            (staged.text.value or "").encode()
        )
    staging.keyring.shred(keys[1])
    shown = staging.chunk(send_id, 0, 3)
    assert [m.number.redacted for m in shown] == [False, True, False]
    erased = sealed[1].number
    assert isinstance(erased, SealedPersonalData)
    assert staging.keyring.open(erased.key_id, erased.ciphertext) is None
