"""Bulk sealing and hashing are the keyring's own, and shredding makes rows unreadable."""

from __future__ import annotations

import io
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.contacts.import_service import checked_chunks, file_format
from adapters.contacts.sealing import AccountSeal
from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.crypto.personal_keys import recipient_keys
from domain.contacts.exceptions import (
    EmptyUploadError,
    UnsupportedFileTypeError,
    UploadTooLargeError,
)
from domain.personal import recipient_key_id

KEYRING = Keyring(bytes(range(32)), MemoryKeyStore())


@given(st.text(max_size=40))
def test_bulk_hashes_are_the_keyrings_lookup_hashes(value: str) -> None:
    account = uuid4()
    assert AccountSeal(KEYRING, account).number_hash(value).hex() == KEYRING.lookup_hash(
        account, value
    )


def test_rows_sealed_in_bulk_open_with_the_keyring_until_the_account_key_is_shredded() -> None:
    keyring = Keyring(bytes(range(32)), MemoryKeyStore())
    account = uuid4()
    seal = AccountSeal(keyring, account)
    sealed = [seal.seal("+491712345678", {"vorname": f"Anna {i}"}) for i in range(5000)]
    assert len({s[:12] for s in sealed}) == 5000  # a fresh nonce every time
    assert seal.open(sealed[42]).fields == {"vorname": "Anna 42"}
    keyring.shred_account(account)
    assert seal.open(sealed[42]).redacted
    # A fresh key under the same id (the account writes again) cannot open the old rows either.
    AccountSeal(keyring, account).seal("+491601234567", {})
    assert AccountSeal(keyring, account).open(sealed[42]).redacted


@pytest.mark.parametrize(
    ("filename", "content_type", "expected"),
    [("kunden.CSV", None, "csv"), ("nummern.txt", None, "txt"), (None, "text/csv", "csv")],
)
def test_csv_and_txt_are_recognised(
    filename: str | None, content_type: str | None, expected: str
) -> None:
    assert file_format(filename, content_type) == expected


@pytest.mark.parametrize("filename", ["kunden.xlsx", "kunden.xls", "kunden", "bild.png"])
def test_other_files_are_refused_by_name(filename: str) -> None:
    with pytest.raises(UnsupportedFileTypeError):
        file_format(filename, "application/octet-stream")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyUploadError),
        (b"\xef\xbb\xbf \r\n\r\n\t", EmptyUploadError),
        (b"PK\x03\x04 rest of a workbook", UnsupportedFileTypeError),
        (b"Handy\x00\x01\x02", UnsupportedFileTypeError),
        (b"x" * 101, UploadTooLargeError),
    ],
)
def test_empty_binary_and_oversized_uploads_are_refused(
    content: bytes, error: type[Exception]
) -> None:
    with pytest.raises(error):
        list(checked_chunks(io.BytesIO(content), limit=100))


class CountingStore(MemoryKeyStore):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self, key_id: UUID) -> bytes | None:
        self.loads += 1
        return super().load(key_id)


def test_a_batch_of_recipient_keys_is_created_owned_by_the_account_and_cached() -> None:
    store = CountingStore()
    keyring = Keyring(bytes(range(32)), store)
    account = uuid4()
    hashes = [keyring.lookup_hash(account, f"+49171{i:07d}") for i in range(50)]
    ids = recipient_keys(keyring, account, hashes)
    assert ids[hashes[3]] == recipient_key_id(account, hashes[3])
    sealed = {h: keyring.seal(key_id, b"Hallo") for h, key_id in ids.items()}
    assert store.loads == 0  # sealing the batch needed no single-key lookups
    assert keyring.shred(ids[hashes[0]])
    assert keyring.open(ids[hashes[0]], sealed[hashes[0]]) is None
    assert keyring.open(ids[hashes[1]], sealed[hashes[1]]) == b"Hallo"
    assert keyring.shred_account(account) == 49
    keyring.forget_cached()
    assert keyring.open(ids[hashes[1]], sealed[hashes[1]]) is None
