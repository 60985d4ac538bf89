"""Every event class the project defines survives the msgspec mapper exactly: UUIDs, aware
datetimes, enums, tuples, sets, nested value objects and sealed personal data come back equal."""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
import pkgutil
import typing
from datetime import UTC, date, datetime
from types import NoneType, UnionType
from typing import Any, get_args, get_origin
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate, CanMutateAggregate
from eventsourcing.persistence import StoredEvent

import domain
from adapters.crypto.keyring import Keyring, MemoryKeyStore
from adapters.postgres.eventstore import MsgspecTranscoder, TypedMapper, event_store_env
from domain.base import KontorApplication
from domain.ledger.application import Ledger
from domain.ledger.billing import Billing
from domain.ledger.lots import LotSource, PaymentMethod
from domain.personal import PersonalData, SealedPersonalData

IMPLICIT = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def fields_of(cls: type[Any]) -> dict[str, Any]:
    """The recorded attributes of an event class (no class variables)."""
    return {
        name: hint
        for name, hint in typing.get_type_hints(cls).items()
        if get_origin(hint) is not typing.ClassVar and hint is not typing.ClassVar
    }


def event_classes() -> list[type[Any]]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: dict[str, type[Any]] = {}
    stack: list[type[Any]] = [Aggregate]
    seen: set[type[Any]] = set()
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if not sub.__module__.startswith("domain."):
                continue
            for name, value in vars(sub).items():
                if (
                    isinstance(value, type)
                    and issubclass(value, CanMutateAggregate)
                    and value.__module__.startswith("domain.")
                    and not name.startswith("_")
                ):
                    found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[k] for k in sorted(found)]


def sample(hint: Any, depth: int = 0) -> Any:
    """A value of the annotated type with nothing left at a default."""
    origin = get_origin(hint)
    if origin in (typing.Union, UnionType):
        options = [a for a in get_args(hint) if a is not NoneType]
        return sample(options[0], depth)
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return (sample(args[0], depth + 1), sample(args[0], depth + 1))
        return tuple(sample(a, depth + 1) for a in args)
    if origin in (frozenset, set):
        (arg,) = get_args(hint)
        return origin({sample(arg, depth + 1)})
    if origin is dict:
        key, value = get_args(hint)
        return {sample(key, depth + 1): sample(value, depth + 1)}
    if origin is list:
        (arg,) = get_args(hint)
        return [sample(arg, depth + 1)]
    simple: dict[Any, Any] = {
        UUID: uuid4(),
        str: "Grüße €",
        int: 4711,
        float: 0.5,
        bool: True,
        datetime: datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC),
        date: date(2026, 3, 2),
        bytes: b"\x00\x01",
        PersonalData: PersonalData(uuid4(), "+4915112345678"),
    }
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint)
        return hint(**{f.name: sample(hints[f.name], depth + 1) for f in dataclasses.fields(hint)})
    raise AssertionError(f"no sample for {hint!r}")


@pytest.fixture
def mapper() -> TypedMapper:
    transcoder = MsgspecTranscoder()
    transcoder.keyring = Keyring(b"\x01" * 32, MemoryKeyStore())
    return TypedMapper(transcoder=transcoder)


def test_the_project_defines_event_classes_to_check() -> None:
    assert len(event_classes()) >= 40


@pytest.mark.parametrize("cls", event_classes(), ids=lambda c: c.__qualname__)
def test_every_event_class_round_trips_exactly(cls: type[Any], mapper: TypedMapper) -> None:
    hints = fields_of(cls)
    values = {name: sample(hint) for name, hint in hints.items() if name not in IMPLICIT}
    values.update(originator_id=uuid4(), originator_version=3, timestamp=datetime.now(UTC))
    if "originator_topic" in hints:
        values["originator_topic"] = "domain.example:Example"
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", dict(values))
    stored = mapper.to_stored_event(event)
    assert b"+4915112345678" not in stored.state  # personal data is sealed
    again = mapper.to_domain_event(
        StoredEvent(stored.originator_id, stored.originator_version, stored.topic, stored.state)
    )
    assert type(again) is cls
    assert vars(again) == values


def test_a_shredded_key_reads_back_as_a_redacted_value(mapper: TypedMapper) -> None:
    cls = next(c for c in event_classes() if "PersonalData" in str(fields_of(c)))
    hints = fields_of(cls)
    values = {name: sample(hint) for name, hint in hints.items() if name not in IMPLICIT}
    values.update(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC))
    values.setdefault("originator_topic", "domain.example:Example")
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", dict(values))
    stored = mapper.to_stored_event(event)
    keyring = mapper.transcoder.keyring
    assert isinstance(keyring, Keyring)
    for value in values.values():
        if isinstance(value, PersonalData):
            keyring.shred(value.key_id)
    again = vars(mapper.to_domain_event(stored))
    redacted = [v for v in again.values() if isinstance(v, PersonalData)]
    assert redacted
    assert all(v.redacted and v.shown() == "[redacted]" for v in redacted)


def test_data_handed_on_sealed_is_stored_as_sealed_and_reads_back_opened(
    mapper: TypedMapper,
) -> None:
    cls = next(c for c in event_classes() if "PersonalData" in str(fields_of(c)))
    hints = fields_of(cls)
    values = {name: sample(hint) for name, hint in hints.items() if name not in IMPLICIT}
    values.update(originator_id=uuid4(), originator_version=1, timestamp=datetime.now(UTC))
    values.setdefault("originator_topic", "domain.example:Example")
    keyring = mapper.transcoder.keyring
    assert isinstance(keyring, Keyring)
    plain = {n: v for n, v in values.items() if isinstance(v, PersonalData)}
    assert plain
    sealed = {
        n: SealedPersonalData(v.key_id, keyring.seal(v.key_id, v.shown().encode()))
        for n, v in plain.items()
    }
    event = object.__new__(cls)
    object.__setattr__(event, "__dict__", {**values, **sealed})
    stored = mapper.to_stored_event(event)
    for handed_on in sealed.values():  # the very ciphertext: nothing was opened or sealed again
        assert base64.b64encode(handed_on.ciphertext) in stored.state
    assert vars(mapper.to_domain_event(stored)) == values
    for value in plain.values():
        keyring.shred(value.key_id)
    again = vars(mapper.to_domain_event(stored)).values()
    redacted = [v for v in again if isinstance(v, PersonalData)]
    assert redacted
    assert all(v.redacted for v in redacted)


def test_sealed_personal_data_does_not_pretend_to_know_its_value() -> None:
    sealed = SealedPersonalData(uuid4(), b"\x00" * 40)
    with pytest.raises(TypeError):
        sealed.shown()
    with pytest.raises(TypeError):
        _ = sealed.redacted
    assert repr(sealed) == f"SealedPersonalData(key_id={sealed.key_id})"


def test_wallet_and_reservation_snapshots_reload_as_the_live_aggregates() -> None:
    app = Ledger(env=event_store_env(None, IS_SNAPSHOTTING_ENABLED="y"))
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    account = uuid4()
    app.open_wallet(account, Billing.PREPAID)
    app.purchase(account, net=100_000, vat=19_000, method=PaymentMethod.PAYPAL, reference="r",
                 package="p", actor="admin:x", now=now, expires_at=None)  # fmt: skip
    app.grant(account, source=LotSource.GOODWILL, amount=500, reference="g", reason="sorry",
              actor="admin:x", now=now, expires_at=now)  # fmt: skip
    reservation = app.reserve(account, send_id=uuid4(), amount=7_900, parts=10, count=10,
                              now=now, expires_at=now)  # fmt: skip
    app.capture(reservation, [0, 3], [790, 790], [1, 1])
    wallet = app.wallet(account)
    live_reservation = app.reservation(reservation)
    for aggregate in (wallet, live_reservation):
        app.take_snapshot(aggregate.id)
    assert app.snapshots is not None
    for aggregate in (wallet, live_reservation):
        snapshots = list(app.snapshots.get(aggregate.id, desc=True, limit=1))
        assert snapshots, "no snapshot was taken"
        rebuilt = snapshots[0].mutate(None)  # type: ignore[attr-defined]
        assert rebuilt == aggregate
        assert app.repository.get(aggregate.id) == aggregate


def test_kontor_applications_do_not_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.does_not_exist")
    app = KontorApplication(env=event_store_env(None))
    assert app.env.get("PERSISTENCE_MODULE") == "eventsourcing.popo"
