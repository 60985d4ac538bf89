"""An asyncio SMPP 3.4 ESME for one carrier bind: the carrier sender's only way out.

Usage::

    async def on_deliver(pdu: DeliverSm) -> None:   # store it durably, then return
        ...

    client = SmppClient(ClientConfig(host=..., port=..., system_id=..., password=...), on_deliver)
    await client.start()                      # connect + bind_transceiver, or BindError/OSError
    outcome = await client.submit(SubmitRequest(source="Kontor", destination="+4917...",
                                                payload=part, data_coding=0, esm_class=0x40))
    result = await client.query(message_id, source="Kontor")
    await client.close()                      # waits for answers in flight, unbinds

What it guarantees, since the libraries we measured did not:

- Never more than ``window`` submit_sm/query_sm outstanding on the bind (a semaphore held from
  the write until the response or its timeout); enquire_link is outside the window so that a
  full window cannot hide a dead link.
- Every submit ends in exactly one ``PartOutcome``; the ones written but unanswered are
  ``Unknown``, never silently retried (see ``adapters.smpp.outcomes``).
- A deliver_sm is acknowledged only after ``on_deliver`` returned; if it raises, the answer is
  ESME_RX_T_APPN (0x64), which makes the SMSC deliver it again later. Receipts for a submit
  whose response has not arrived yet are handed over like any other: the caller parks them.
- enquire_link after ``enquire_link_interval`` seconds without traffic; no answer within
  ``response_timeout`` drops the link. Lost links are re-bound with exponential back-off
  (``reconnect_initial`` doubling up to ``reconnect_max``, with jitter) while ``submit`` waits up
  to ``connect_wait`` for a bind and otherwise returns ``NotSent``.
- 0x58 throttling slows the whole bind (``adapters.smpp.ratelimit``), optionally capped at
  ``max_submits_per_second``.

Logs carry ids, statuses and sequence numbers only: never numbers or texts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable

from adapters.smpp.address import source_address
from adapters.smpp.config import ClientConfig, DeliverHandler
from adapters.smpp.constants import CommandStatus
from adapters.smpp.errors import (
    BindError,
    ConnectionLostError,
    NotConnectedError,
    QueryError,
    ResponseTimeoutError,
    SmppError,
)
from adapters.smpp.outcomes import (
    NotSent,
    PartAccepted,
    PartOutcome,
    QueryResult,
    SubmitRequest,
    Throttled,
    Unknown,
    build_submit_sm,
    outcome_of,
)
from adapters.smpp.pdu import (
    BindTransceiver,
    DeliverSm,
    DeliverSmResp,
    EnquireLink,
    EnquireLinkResp,
    Envelope,
    GenericNack,
    QuerySm,
    QuerySmResp,
    Unbind,
    UnbindResp,
)
from adapters.smpp.ratelimit import RateLimiter
from adapters.smpp.receipt import STATE_BY_NUMBER, DeliveryState
from adapters.smpp.session import SmppSession
from adapters.smpp.smpptime import parse_smpp_time

log = logging.getLogger(__name__)
Admit = Callable[[], Awaitable[bool]]
"""Asked right before a part is written; False keeps it unsent."""


class SmppClient:
    def __init__(self, config: ClientConfig, on_deliver: DeliverHandler) -> None:
        self.config = config
        self._on_deliver = on_deliver
        self._window = asyncio.Semaphore(config.window)
        self.limiter = RateLimiter(config.max_submits_per_second)
        self._session: SmppSession | None = None
        self._bound = asyncio.Event()
        self._closing = False
        self._draining = False
        self._supervisor: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._jitter = random.Random()  # noqa: S311 - back-off jitter, not a secret
        self.binds = 0
        self.max_in_flight = 0

    async def __aenter__(self) -> SmppClient:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    @property
    def bound(self) -> bool:
        return self._session is not None and self._session.is_open

    @property
    def in_flight(self) -> int:
        return self._session.in_flight if self._session is not None else 0

    async def start(self) -> None:
        """Connect and bind now; raise ``BindError``, ``OSError`` or ``TimeoutError`` if not."""
        await self._connect()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"smpp-{self.config.name}")

    async def submit(  # noqa: PLR0911 - one return per way a part can end
        self, request: SubmitRequest, admit: Admit | None = None
    ) -> PartOutcome:
        """Submit one part. ``admit`` is awaited once the part has its window slot and a
        bound session, right before it is written: ``False`` leaves it unsent (``NotSent``).
        The carrier sender writes its claim there, so that only parts about to go out are
        claimed; an exception from it ends the submit unsent."""
        pdu = build_submit_sm(request)  # PduEncodeError here is the caller's bad request
        if self._closing or self._draining:
            return NotSent("client closed")
        async with self._window:
            if self.draining:  # waited for a slot while the sender began to stop
                return NotSent("client closed")
            # Paced inside the window: a sender that passed the limiter before a throttle
            # must not then go out at the old pace.
            await self.limiter.acquire()
            session = await self._ready_session()
            if session is None:
                return NotSent("client closed" if self._closing else "not bound")
            if admit is not None and not await admit():
                return NotSent("not admitted")
            if not session.is_open:  # the link dropped while admit waited: nothing went out
                return NotSent("not bound")
            sent_at = self.limiter.now()
            try:
                future = session.request(pdu, self.config.response_timeout)
            except NotConnectedError:
                return NotSent("not bound")
            self.max_in_flight = max(self.max_in_flight, session.in_flight)
            try:
                response = await future
            except ResponseTimeoutError:
                return Unknown("timeout")
            except ConnectionLostError:
                return Unknown("connection_lost")
        outcome = outcome_of(response)
        if isinstance(outcome, PartAccepted):
            self.limiter.on_accepted()
        elif isinstance(outcome, Throttled):
            self.limiter.on_throttled(sent_at)
        return outcome

    async def query(self, message_id: str, source: str) -> QueryResult:
        """query_sm; raises ``QueryError`` on an error answer, or ``NotConnectedError``,
        ``ResponseTimeoutError``, ``ConnectionLostError``."""
        address = source_address(source)
        request = QuerySm(message_id, address.ton, address.npi, address.addr)
        async with self._window:
            session = await self._ready_session()
            if session is None:
                raise NotConnectedError("not bound")
            response = await session.request(request, self.config.response_timeout)
        pdu = response.pdu
        if response.command_status != 0 or not isinstance(pdu, QuerySmResp):
            raise QueryError(response.command_status or CommandStatus.ESME_RUNKNOWNERR)
        return QueryResult(
            message_id=pdu.message_id,
            state=STATE_BY_NUMBER.get(pdu.message_state, DeliveryState.UNKNOWN),
            message_state=pdu.message_state,
            error_code=pdu.error_code,
            final_date=parse_smpp_time(pdu.final_date),
        )

    @property
    def draining(self) -> bool:
        """``stop_sending`` was called: no further submit_sm is written."""
        return self._draining

    def stop_sending(self) -> None:
        """Write no further submit_sm (they answer ``NotSent``); the ones written keep their
        window slots until answered, and receipts keep coming, until ``close``."""
        self._draining = True

    async def close(self) -> None:
        """Stop sending, let answers in flight arrive, finish deliveries, unbind, disconnect."""
        if self._closing:
            return
        self._closing = True
        self._bound.set()  # wake submits waiting for a bind: they return NotSent
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        session = self._session
        if session is None or not session.is_open:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.close_timeout
        while session.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.01)
        if self._deliveries:
            await asyncio.wait(self._deliveries, timeout=self.config.close_timeout)
        with contextlib.suppress(SmppError):
            await session.request(Unbind(), self.config.close_timeout)
        session.close()
        try:
            await asyncio.wait_for(session.wait_closed(), self.config.close_timeout)
        except TimeoutError:
            session.abort()

    # connection management ----------------------------------------------------------------

    async def _connect(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        _, session = await asyncio.wait_for(
            loop.create_connection(lambda: SmppSession(self, name=cfg.name), cfg.host, cfg.port),
            cfg.bind_timeout,
        )
        bind = BindTransceiver(cfg.system_id, cfg.password, cfg.system_type)
        try:
            response = await session.request(bind, cfg.bind_timeout)
        except (SmppError, asyncio.CancelledError):  # cancelled: close() during a rebind
            session.abort()
            raise
        if response.command_status != 0:
            session.close()
            raise BindError(response.command_status)
        self._session = session
        self.binds += 1
        self._bound.set()
        log.info("smpp bound", extra={"bind": cfg.name, "system_id": cfg.system_id})

    async def _ready_session(self) -> SmppSession | None:
        if self._closing:  # close() drains what is in flight; nothing new may join it
            return None
        session = self._session
        if session is not None and session.is_open:
            return session
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bound.wait(), self.config.connect_wait)
        session = self._session
        return session if session is not None and session.is_open and not self._closing else None

    async def _supervise(self) -> None:
        delay = self.config.reconnect_initial
        while not self._closing:
            session = self._session
            if session is not None and session.is_open:
                await self._keep_alive(session)
                continue
            try:
                await self._connect()
                delay = self.config.reconnect_initial
            except (OSError, TimeoutError, SmppError) as exc:
                log.warning(
                    "smpp bind failed, retrying",
                    extra={"bind": self.config.name, "error": type(exc).__name__, "delay": delay},
                )
                await asyncio.sleep(delay * self._jitter.uniform(0.5, 1.0))
                delay = min(delay * 2, self.config.reconnect_max)

    async def _keep_alive(self, session: SmppSession) -> None:
        loop = asyncio.get_running_loop()
        interval = self.config.enquire_link_interval
        while session.is_open and not self._closing:
            idle = loop.time() - session.last_received
            if idle < interval:
                await asyncio.wait([session.closed], timeout=interval - idle)
                continue
            try:
                await session.request(EnquireLink(), self.config.response_timeout)
            except SmppError:
                log.warning("smpp link dead, reconnecting", extra={"bind": self.config.name})
                session.abort()
        await session.wait_closed()

    # SessionHandler -----------------------------------------------------------------------

    def on_request(self, session: SmppSession, envelope: Envelope) -> None:
        pdu = envelope.pdu
        if isinstance(pdu, DeliverSm):
            task = asyncio.create_task(self._deliver(session, envelope, pdu))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        elif isinstance(pdu, EnquireLink):
            session.respond(envelope, EnquireLinkResp())
        elif isinstance(pdu, Unbind):
            session.respond(envelope, UnbindResp())
            session.close()
        else:
            session.respond(envelope, GenericNack(), CommandStatus.ESME_RINVCMDID)

    def on_closed(self, session: SmppSession, exc: Exception | None) -> None:
        if session is self._session:
            self._session = None
            if not self._closing:
                self._bound.clear()
                log.warning("smpp connection lost", extra={"bind": self.config.name})

    async def _deliver(self, session: SmppSession, envelope: Envelope, pdu: DeliverSm) -> None:
        status = CommandStatus.ESME_ROK
        try:
            await self._on_deliver(pdu)
        except Exception as exc:  # noqa: BLE001 - any failure must become a redelivery
            # The type only: the message of an exception may quote personal data.
            log.error(
                "deliver_sm handler failed; asking the SMSC to redeliver",
                extra={"seq": envelope.sequence_number, "error": type(exc).__name__},
            )
            status = CommandStatus.ESME_RX_T_APPN
        session.respond(envelope, DeliverSmResp(), status)
