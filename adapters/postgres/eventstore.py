"""Event storage: msgspec JSON for eventsourcing 9.5, typed on the way back, personal data sealed.

Selected through the applications' environment (``MAPPER_TOPIC`` / ``TRANSCODER_TOPIC``, see
``event_store_env``). Events stay eventsourcing event classes in ``domain/``; this module only
translates them:

- ``MsgspecTranscoder`` writes compact JSON. ``PersonalData`` values are encrypted through the
  keyring (``{"k": key id, "c": ciphertext}``) and decrypted on read; a shredded key reads back
  as a redacted value. (Processes that read the stored JSON without this mapper use the structs
  of ``adapters.postgres.stored_events``, which open sealed values the same way.)
- ``TypedMapper`` decodes each event's state with the event class's own type hints, so UUIDs,
  timezone-aware datetimes, enums, tuples, sets and nested value objects come back as exactly
  what was recorded (eventsourcing's JSON transcoder would hand back strings and lists).
  Snapshots are typed by the annotations of the snapshotted aggregate class.
"""

from __future__ import annotations

import base64
import functools
import typing
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import CanSnapshotAggregate
from eventsourcing.persistence import (
    InterfaceError,
    Mapper,
    MapperDeserialisationError,
    OperationalError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, resolve_topic, retry
from psycopg import Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from adapters.postgres.stored_events import open_sealed
from domain.personal import PersonalData, SealedPersonalData


class Keyring(Protocol):
    """Seals and opens personal data under per-subject data keys."""

    def seal(self, key_id: UUID, plaintext: bytes) -> bytes: ...

    def open(self, key_id: UUID, ciphertext: bytes) -> bytes | None:
        """The plaintext, or ``None`` when the key has been shredded."""
        ...


class KeyringMissingError(RuntimeError):
    """Personal data may only be stored by an application that has a keyring."""


class MsgspecTranscoder(Transcoder):
    def __init__(self) -> None:
        self.keyring: Keyring | None = None
        self._encoder = msgspec.json.Encoder(enc_hook=self._enc_hook)
        self._decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        return self._encoder.encode(obj)

    def decode(self, data: bytes) -> Any:
        return self._decoder.decode(data)

    def convert(self, obj: Any, type_: Any) -> Any:
        return msgspec.convert(obj, type=type_, dec_hook=self._dec_hook, strict=False)

    def _enc_hook(self, obj: Any) -> Any:
        if isinstance(obj, PersonalData):
            if isinstance(obj, SealedPersonalData):
                return {"k": obj.key_id.hex, "c": base64.b64encode(obj.ciphertext).decode()}
            if obj.value is None:
                return {"k": obj.key_id.hex, "c": None}
            if self.keyring is None:
                raise KeyringMissingError("no keyring: refusing to store personal data")
            sealed = self.keyring.seal(obj.key_id, obj.value.encode())
            return {"k": obj.key_id.hex, "c": base64.b64encode(sealed).decode()}
        if isinstance(obj, (set, frozenset)):
            return sorted(obj, key=repr)
        raise NotImplementedError(f"cannot encode {type(obj).__name__}")

    def _dec_hook(self, type_: type, obj: Any) -> Any:
        if type_ is PersonalData:
            return open_sealed(self.keyring, obj["k"], obj.get("c"))
        raise NotImplementedError(f"cannot decode {type_!r}")


DATABASE_ERRORS = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    InterfaceError,
    OperationalError,
)
"""The database (not the data) failed: the connection, the server or the pool, in psycopg's own
errors and eventsourcing's wrappers of them. Errors of the data or the statement (a ``DataError``,
an ``IntegrityError``) are not among them: trying such a call again can never succeed."""

_IMPLICIT = {"originator_id", "originator_version"}
_AGGREGATE_PRIVATE: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}


@functools.cache
def _state_type(cls: type) -> type[msgspec.Struct]:
    """A struct with every recorded field of ``cls`` as optional (upcasters fill the gaps)."""
    hints = typing.get_type_hints(cls)
    if isinstance(cls, type) and issubclass(cls, CanSnapshotAggregate):
        hints["state"] = dict[str, Any]
    fields = [
        (name, hint | msgspec.UnsetType, msgspec.UNSET)
        for name, hint in hints.items()
        if name not in _IMPLICIT and not name.startswith("__") and not _is_classvar(hint)
    ]
    return msgspec.defstruct(f"{cls.__qualname__}State", fields, kw_only=True)


@functools.cache
def _aggregate_state_type(cls: type) -> type[msgspec.Struct]:
    hints = {**_AGGREGATE_PRIVATE, **typing.get_type_hints(cls)}
    fields = [
        (name, hint | msgspec.UnsetType, msgspec.UNSET)
        for name, hint in hints.items()
        if not name.startswith("__") and not _is_classvar(hint) and name not in _IMPLICIT
    ]
    return msgspec.defstruct(f"{cls.__qualname__}Snapshot", fields, kw_only=True)


def _is_classvar(hint: Any) -> bool:
    return typing.get_origin(hint) is typing.ClassVar or hint is typing.ClassVar


def _typed(transcoder: MsgspecTranscoder, raw: dict[str, Any], state_type: type) -> dict[str, Any]:
    known = transcoder.convert(raw, state_type)
    typed = {
        name: value
        for name in known.__struct_fields__
        if (value := getattr(known, name)) is not msgspec.UNSET
    }
    # Attributes the class does not annotate are kept as decoded (JSON types).
    for name, value in raw.items():
        typed.setdefault(name, value)
    return typed


class TypedMapper(Mapper[UUID]):
    transcoder: MsgspecTranscoder

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        try:
            data = stored_event.state
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            raw: dict[str, Any] = self.transcoder.decode(data)
            class_version = getattr(cls, "class_version", 1)
            from_version = raw.pop("class_version", 1)
            while from_version < class_version:
                getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(raw)
                from_version += 1
            state = _typed(self.transcoder, raw, _state_type(cls))
            if issubclass(cls, CanSnapshotAggregate):
                aggregate_cls = resolve_topic(state["topic"])
                version = state["state"].pop("class_version", None)
                state["state"] = _typed(
                    self.transcoder, state["state"], _aggregate_state_type(aggregate_cls)
                )
                if version is not None:
                    state["state"]["class_version"] = version
        except DATABASE_ERRORS:
            raise  # a data key could not be loaded: the database is away, the event is fine
        except Exception as exc:
            raise MapperDeserialisationError(
                f"cannot decode {stored_event.topic} {stored_event.originator_id}"
                f" v{stored_event.originator_version}: {exc}"
            ) from exc
        state["originator_id"] = (
            stored_event.originator_id
            if isinstance(stored_event.originator_id, UUID)
            else UUID(str(stored_event.originator_id))
        )
        state["originator_version"] = stored_event.originator_version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event


def _twice(method: Any) -> Any:
    """``method`` (an eventsourcing recorder method) with two attempts instead of its ten."""
    return retry((InterfaceError, OperationalError), max_attempts=2)(method.__wrapped__)


class SideEffectRecorder(PostgresApplicationRecorder):
    """Runs ``side_effects`` given to ``app.save(..., side_effects=[(sql, rows), ...])`` in the
    transaction that inserts the events: an operational index (submit claims, carrier ids)
    never disagrees with the events it was derived from.

    It also sends the whole transaction (BEGIN, side effects, the table lock, the insert,
    COMMIT) in one pipeline round trip. eventsourcing's own ``insert_events`` syncs after the
    insert and commits in a second round trip, so the application's table lock stays held while
    the writing process is scheduled again; on a busy 2-core machine that is where every other
    writer of the table waited (a niced campaign worker holding the lock the API needs).

    The events go in as four arrays in binary format rather than eventsourcing's one array of a
    composite type, which psycopg can only send as text: a chunk of 500 sealed messages is a
    few hundred kilobytes of state, and escaping it as text cost the expander a quarter of its
    CPU.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.insert_arrays_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[])"
            " RETURNING notification_id"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_arrays_statement,
            (
                [
                    e.originator_id if isinstance(e.originator_id, UUID) else UUID(e.originator_id)
                    for e in stored_events
                ],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or self.datastore.enable_db_functions:
            inserted: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return inserted
        with self.datastore.get_connection() as conn:
            try:
                with conn.cursor() as curs:
                    with conn.pipeline():
                        conn.execute("BEGIN")
                        with conn.cursor() as effects:
                            self._insert_events(effects, stored_events, **kwargs)
                        self._insert_stored_events(curs, stored_events, **kwargs)
                        conn.execute("COMMIT")
                    # The pipeline synced once: the insert's result is on ``curs``; a conflict
                    # was raised above (as eventsourcing's IntegrityError, by get_connection).
                    ids: Sequence[int] | None = self._fetch_ids_after_insert_events(
                        curs, stored_events, **kwargs
                    )
                    return ids
            except BaseException:
                if conn.info.transaction_status != TransactionStatus.IDLE:
                    conn.rollback()
                raise

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        for statement, rows in kwargs.get("side_effects", ()):
            if rows:
                curs.executemany(statement, rows)


class FailFastRecorder(SideEffectRecorder):
    """The recorder of request handlers: two attempts per read instead of eventsourcing's ten.

    eventsourcing retries every read ten times, each waiting up to the pool's timeout for a
    connection, so a request arriving while PostgreSQL is away would hang for most of a minute.
    A second attempt is kept: the first may meet a pooled connection the restarted server no
    longer knows, and the pool hands out a fresh one next."""

    select_events = _twice(PostgresApplicationRecorder.select_events)
    select_notifications = _twice(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _twice(PostgresApplicationRecorder.max_notification_id)


def attach_keyring(app: Application[Any], keyring: Keyring) -> None:
    """Give an application's mapper the keyring that seals personal data."""
    transcoder = app.mapper.transcoder
    if not isinstance(transcoder, MsgspecTranscoder):
        raise TypeError(f"{type(app).__name__} does not use the msgspec transcoder")
    transcoder.keyring = keyring


def event_store_env(
    database_url: str | None, *, fail_fast: bool = False, **extra: str
) -> dict[str, str]:
    """The eventsourcing environment for PostgreSQL at ``database_url`` (None: in memory).
    ``fail_fast`` for processes that answer requests: reads give up after two short tries
    (``FailFastRecorder``) so that a database outage is answered at once, not after a minute."""
    env = {
        "MAPPER_TOPIC": get_topic(TypedMapper),
        "TRANSCODER_TOPIC": get_topic(MsgspecTranscoder),
    }
    if database_url is None:
        env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
    else:
        env.update(postgres_env(database_url))
        if fail_fast:
            env["APPLICATION_RECORDER_TOPIC"] = get_topic(FailFastRecorder)
            env["POSTGRES_CONNECT_TIMEOUT"] = str(FAIL_FAST_TIMEOUT)
            # A connection the server dropped (a restart) is found at checkout and replaced,
            # instead of failing the request that drew it.
            env["POSTGRES_PRE_PING"] = "y"
    env.update(extra)
    return env


FAIL_FAST_TIMEOUT = 2
"""Seconds a request handler waits for a database connection (also the connect timeout)."""


def postgres_env(database_url: str) -> dict[str, str]:
    url = urlsplit(database_url)
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url.scheme}://...")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(url.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        # Small pools: every process opens three applications, and a platform runs a dozen
        # processes against one server.
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "3",
        "POSTGRES_LOCK_TIMEOUT": "10",
        "CREATE_TABLE": "y",
        "APPLICATION_RECORDER_TOPIC": get_topic(SideEffectRecorder),
    }
