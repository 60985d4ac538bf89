"""The Contacts audit trail, in memory: opt-out histories, imports recorded once, erasures."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from adapters.postgres.eventstore import event_store_env
from domain.contacts.application import Contacts
from domain.contacts.erasure import Erasure
from domain.contacts.exceptions import OptOutNotFoundError, OptOutWithdrawalError
from domain.contacts.opt_out import OptOut, opt_out_id
from domain.contacts.recipient_list import RecipientList

HASH = "ab" * 32


@pytest.fixture
def contacts() -> Contacts:
    return Contacts(env=event_store_env(None))


def test_an_opt_out_leaves_only_by_a_withdrawal_with_a_reason(contacts: Contacts) -> None:
    account = uuid4()
    assert contacts.opt_out(account, HASH, "customer:kt_a", "customer")
    assert not contacts.opt_out(account, HASH, "customer:kt_a", "customer")
    with pytest.raises(OptOutWithdrawalError):
        contacts.withdraw_opt_out(account, HASH, "customer:kt_a", "  ")
    contacts.withdraw_opt_out(account, HASH, "admin:kt_b", "customer asked by phone")
    with pytest.raises(OptOutNotFoundError):
        contacts.withdraw_opt_out(account, HASH, "admin:kt_b", "again")
    assert contacts.opt_out(account, HASH, "inbound:stop", "stop_reply")
    history: list[Any] = list(contacts.repository.event_store.get(opt_out_id(account, HASH)))
    assert [type(e) for e in history] == [OptOut.Recorded, OptOut.Withdrawn, OptOut.Renewed]
    assert history[1].actor == "admin:kt_b"
    assert history[1].reason == "customer asked by phone"


def test_a_job_is_recorded_once_however_often_a_worker_retries(contacts: Contacts) -> None:
    list_id, job_id = uuid4(), uuid4()
    contacts.record_list_created(list_id, uuid4(), "Kunden", "customer:kt_a")
    for _ in range(3):
        contacts.record_import(list_id, job_id, "customer:kt_a", imported=5, merged=1, rejected=2)
    history: list[Any] = list(contacts.repository.event_store.get(list_id))
    assert [type(e) for e in history] == [RecipientList.Created, RecipientList.Imported]
    assert (history[1].imported, history[1].merged, history[1].rejected) == (5, 1, 2)


def test_an_erasure_names_the_person_by_keyed_hash_and_keeps_their_opt_out(
    contacts: Contacts,
) -> None:
    account = uuid4()
    contacts.opt_out(account, HASH, "customer:kt_a", "customer")
    erasure_id = contacts.record_erasure(
        account, HASH, "customer:kt_a", lists=2, recipients=2, key_shredded=True
    )
    erasure: Erasure = contacts.repository.get(erasure_id)
    assert (erasure.number_hash, erasure.lists, erasure.opted_out) == (HASH, 2, True)
    record = contacts.opt_out_record(account, HASH)
    assert record is not None
    assert record.active
    events = list(contacts.repository.event_store.get(opt_out_id(account, HASH)))
    assert isinstance(events[-1], OptOut.NumberErased)
