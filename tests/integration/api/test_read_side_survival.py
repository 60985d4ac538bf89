"""One event a projection cannot apply stops that projection only, visibly, and never for ever.

The poisoned events are written below the API (through the applications' mappers and
recorders), as an earlier release, a bug or a migration could have left them: the API's own
validation is not what is tested here, the read side's survival is.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import msgspec
import psycopg
import pytest
from eventsourcing.persistence import Notification

from adapters.postgres import stored_events as ev
from domain.ledger.lots import PaymentMethod
from domain.messaging.records import Lane
from domain.messaging.send import Send
from domain.personal import PersonalData
from domain.tariff import Tariff
from kontor import cli
from projections.failures import Backoff, Failure, failures, request_retry
from projections.ledger_balances import BalancesProjection
from projections.ledger_journal import JournalProjection
from projections.messaging import MessagingProjection
from projections.runner import ProjectionHeldError, ProjectionRunner
from tests.support.api import ApiHarness
from workers.projections import messaging_runner

NUL_NAME = "Sommer\x00aktion"


def _poisoned_send(api: ApiHarness, account_id: str) -> tuple[UUID, int]:
    """A campaign whose name holds a NUL, recorded as the Messaging application records any."""
    account = UUID(account_id)
    send = Send(
        id=uuid4(),
        account_id=account,
        lane=Lane.BULK,
        sender="Kontor",
        tariff=Tariff.QUALITY,
        template=PersonalData(account, "Hallo"),
        list_id=None,
        total=1,
        parts=1,
        expected_cost=790,
        skipped=(),
        schedule_at=None,
        review_required=False,
        fingerprint="poisoned",
        idempotency_key=None,
        name=NUL_NAME,
        expires_at=None,
    )
    recordings = api.backend.messaging.save(send)
    return send.id, recordings[0].notification.id


class NulTolerantMessaging(MessagingProjection):
    """The fix as it would be deployed: the messaging projection, minding NULs in names."""

    def decode(self, notification: Notification) -> Any:
        decoded = super().decode(notification)
        if decoded is None:
            return None
        event = decoded.event
        if isinstance(event, ev.SendAccepted) and "\x00" in event.name:
            fixed = msgspec.structs.replace(event, name=event.name.replace("\x00", "\ufffd"))
            return decoded._replace(event=fixed)
        return decoded


def _rows(api: ApiHarness, query: str, *args: Any) -> list[tuple[Any, ...]]:
    assert api.settings.database_url is not None
    with psycopg.connect(api.settings.database_url) as conn:
        return conn.execute(query, args).fetchall()


def _failures(api: ApiHarness) -> list[Failure]:
    assert api.settings.database_url is not None
    with psycopg.connect(api.settings.database_url) as conn:
        return failures(conn)


def _metrics(api: ApiHarness) -> str:
    url = api.client.app.state.metrics.url
    return httpx.get(url, timeout=5).text


def test_an_event_the_messaging_projection_cannot_apply_holds_it_alone_until_it_is_fixed(
    api: ApiHarness, caplog: pytest.LogCaptureFixture
) -> None:
    first, sent_before = api.send_single()
    send_id, poisoned = _poisoned_send(api, first.account_id)
    second, sent_after = api.send_single()
    before = sent_before["messages"][0]["message_id"]
    after = sent_after["messages"][0]["message_id"]

    runner = messaging_runner(api.backend)
    with caplog.at_level(logging.WARNING), pytest.raises(ProjectionHeldError) as held:
        runner.catch_up()
    assert [f.notification_id for f in held.value.failures] == [poisoned]

    # Everything recorded before the poisoned event is applied, nothing after it.
    found = {str(r[0]) for r in _rows(api, "SELECT message_id FROM msg_messages")}
    assert before in found
    assert after not in found
    assert _rows(api, "SELECT count(*) FROM msg_sends WHERE send_id = %s", send_id) == [(0,)]
    position = _rows(
        api, "SELECT notification_id FROM projection_tracking WHERE projection = 'messaging'"
    )
    assert position == [(poisoned - 1,)]

    # The failure is recorded with its event, and logged with its notification id.
    [failure] = _failures(api)
    assert (failure.projection, failure.application) == ("messaging", "Messaging")
    assert failure.notification_id == poisoned
    assert failure.topic.endswith("Send.Accepted")
    assert failure.originator_id == send_id
    assert "NUL" in failure.error
    assert failure.attempts == 1
    logged = [r for r in caplog.records if r.getMessage().startswith("projection cannot apply")]
    assert [getattr(r, "notification_id", None) for r in logged] == [poisoned]

    # The ledger's projections keep going, for other accounts too.
    third = api.register()
    assert api.topup(third, 25_000, "survival-topup").status_code == 201
    balance = api.balance(third)  # catches the ledger runner up
    assert balance["available"] == api.settings.trial_credit + 25_000

    # /ready (still 200: the API serves) is degraded and names the projection and the event.
    ready = api.client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert any(
        "projection messaging" in p and f"notification {poisoned}" in p for p in body["problems"]
    ), body["problems"]
    [messaging] = [p for p in body["projections"] if p["name"] == "messaging"]
    assert messaging["state"] == "failing"
    assert messaging["failing"]["notification_id"] == poisoned
    assert messaging["behind"] >= 2

    # The metric shows it, on the metrics listener; the API's own port has no /metrics.
    text = _metrics(api)
    assert 'kontor_projection_failing{application="Messaging",projection="messaging"} 1.0' in text
    assert (
        'kontor_projection_failing_notification_id{application="Messaging",'
        f'projection="messaging"}} {float(poisoned)}'
    ) in text
    assert (
        'kontor_projection_failing{application="Ledger",projection="ledger_balances"} 0.0' in text
    )
    assert api.client.get("/metrics").status_code == 404

    # The same code fails the same way at its next attempt, which an operator may ask for now.
    assert api.settings.database_url is not None
    with psycopg.connect(api.settings.database_url, autocommit=True) as conn:
        assert [f.notification_id for f in request_retry(conn)] == [poisoned]
    time.sleep(1.1)  # a held projection looks at its record once a second
    runner.run_once()
    [again] = _failures(api)
    assert again.attempts == 2
    assert again.first_seen == failure.first_seen
    assert 1.5 < (again.next_attempt_at - again.last_seen).total_seconds() < 2.5  # 1 s, then 2 s

    # The fix is deployed: the projection resumes where it stopped and applies all after it.
    assert api.backend.pool is not None
    fixed = ProjectionRunner(
        api.backend.messaging, [NulTolerantMessaging()], api.backend.pool, batch_size=50
    )
    fixed.run_once()  # a restarted worker tries at once, whatever the back-off says
    assert _failures(api) == []
    fixed.catch_up()
    assert _rows(api, "SELECT name FROM msg_sends WHERE send_id = %s", send_id) == [
        ("Sommer\ufffdaktion",)
    ]
    assert after in {str(r[0]) for r in _rows(api, "SELECT message_id FROM msg_messages")}
    assert _failures(api) == []
    ready = api.client.get("/ready").json()
    assert ready["status"] == "ready", ready["problems"]
    assert 'projection="messaging"} 0.0' in _metrics(api)
    response = api.client.get(f"/v1/messages/{after}", headers=second.headers)
    assert response.status_code == 200, response.text


class Picky:
    """A projection that refuses the notifications it is told to, beside well-behaved ones."""

    name = "picky"

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse

    def setup(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS picky_seen (notification_id bigint PRIMARY KEY)")

    def process(self, conn: psycopg.Connection[Any], events: Any) -> None:
        for notification_id, _ in events:
            if notification_id in self.refuse:
                raise ValueError(f"cannot apply {notification_id}")
            conn.execute("INSERT INTO picky_seen VALUES (%s)", (notification_id,))


def _ledger_ids(api: ApiHarness) -> list[int]:
    return [r[0] for r in _rows(api, "SELECT notification_id FROM ledger_events ORDER BY 1")]


def _picky_seen(api: ApiHarness) -> list[int]:
    return [r[0] for r in _rows(api, "SELECT notification_id FROM picky_seen ORDER BY 1")]


def test_a_held_projection_holds_neither_its_siblings_nor_anything_before_its_event(
    api: ApiHarness,
) -> None:
    customers = [api.register() for _ in range(3)]
    ids = _ledger_ids(api)
    refused = ids[len(ids) // 2]
    picky = Picky({refused})
    assert api.backend.pool is not None
    runner = ProjectionRunner(
        api.backend.ledger,
        [JournalProjection(), picky, BalancesProjection()],
        api.backend.pool,
        backoff=Backoff(first=0.5, cap=1.0),
    )
    with pytest.raises(ProjectionHeldError) as held:
        runner.catch_up()
    assert [(f.projection, f.notification_id) for f in held.value.failures] == [("picky", refused)]
    assert _picky_seen(api) == [i for i in ids if i < refused]
    positions = dict(_rows(api, "SELECT projection, notification_id FROM projection_tracking"))
    assert positions["picky"] == refused - 1
    assert positions["ledger_journal"] == positions["ledger_balances"] == ids[-1]

    # Its siblings keep moving while it is held.
    assert api.topup(customers[0], 5_000, "sibling-topup").status_code == 201
    runner.run_once()
    balances = dict(_rows(api, "SELECT customer, available FROM ledger_balances"))
    assert balances[UUID(customers[0].account_id)] == api.settings.trial_credit + 5_000

    # Fixed, it applies the event at its next attempt (back-off: 0.5 s) and everything after.
    picky.refuse.clear()
    time.sleep(1.1)
    runner.catch_up()
    assert _failures(api) == []
    assert _picky_seen(api) == _ledger_ids(api)


def test_a_top_up_beyond_bigint_holds_the_ledger_projections_and_not_messaging(
    api: ApiHarness,
) -> None:
    customer = api.register()
    api.catch_up()
    wallet = api.backend.ledger.wallet(UUID(customer.account_id))
    wallet.purchase(
        lot_id=uuid4(),
        net=777_777,
        vat=0,
        method=next(iter(PaymentMethod)),
        reference="beyond-bigint",
        package="SMS package",
        actor="admin:test",
        now=datetime.now(UTC),
        expires_at=None,
    )
    huge = str(2**63).encode()
    ledger = api.backend.ledger
    stored = [ledger.mapper.to_stored_event(e) for e in wallet.collect_events()]
    ids = ledger.recorder.insert_events(
        [dataclasses.replace(s, state=s.state.replace(b"777777", huge)) for s in stored]
    )
    assert ids is not None
    [poisoned] = [i for i, s in zip(ids, stored, strict=True) if b"777777" in s.state]

    with pytest.raises(ProjectionHeldError) as held:
        api.catch_up()
    assert {(f.projection, f.notification_id) for f in held.value.failures} == {
        ("ledger_journal", poisoned),
        ("ledger_balances", poisoned),
    }
    assert all("out of range" in f.error for f in held.value.failures)

    # Messaging is another context: its read models keep going.
    other, sent = api.send_single()
    messaging_runner(api.backend).catch_up()
    message_id = sent["messages"][0]["message_id"]
    assert api.client.get(f"/v1/messages/{message_id}", headers=other.headers).status_code == 200
    ready = api.client.get("/ready").json()
    assert ready["status"] == "degraded"
    assert sum(f"notification {poisoned}" in p for p in ready["problems"]) == 2


def test_an_operator_sees_the_held_event_and_has_it_retried_once_fixed(
    api: ApiHarness, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register()
    ids = _ledger_ids(api)
    picky = Picky({ids[-1]})
    assert api.backend.pool is not None
    assert api.settings.database_url is not None
    runner = ProjectionRunner(api.backend.ledger, [picky], api.backend.pool)
    runner.run_once()
    monkeypatch.setenv("KONTOR_DATABASE_URL", api.settings.database_url)

    assert cli.main(["projections"]) == 1
    shown = capsys.readouterr().out
    assert "picky" in shown
    assert "failing" in shown
    assert f"held at notification {ids[-1]} (domain.ledger." in shown
    assert "error: ValueError: cannot apply" in shown
    assert cli.main(["projections", "--json"]) == 1
    [as_json] = [p for p in json.loads(capsys.readouterr().out) if p["projection"] == "picky"]
    assert as_json["failing"]["notification_id"] == ids[-1]

    # Fixed and running: a retry now (instead of after the back-off) applies it.
    picky.refuse.clear()
    stop = threading.Event()
    worker = threading.Thread(target=runner.run_forever, args=(stop, 0.05))
    worker.start()
    try:
        assert cli.main(["projections", "retry", "picky", "--wait", "10"]) == 0
    finally:
        stop.set()
        worker.join()
    out = capsys.readouterr().out
    assert f"asked picky (Ledger) to retry notification {ids[-1]}" in out
    assert "picky (Ledger) applied it and resumed" in out
    assert cli.main(["projections"]) == 0
    assert "failing" not in capsys.readouterr().out
