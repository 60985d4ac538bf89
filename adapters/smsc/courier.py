"""Deliveries (receipts and MO) owed to each system_id, sent until they are acknowledged.

Owed deliver_sm go out over the connection their submit_sm came in on while it is bound, as
many SMSCs do (a queue per connection); otherwise (it closed, or the delivery was reloaded from
the record at start) they wait in a queue per system_id and go out on its least busy bound
connection. At most ``deliver_window`` are outstanding per connection. One refused (any status
but 0) or unanswered is sent again after ``redeliver_after`` seconds, for ever, like a carrier
that keeps a report until it is taken; each attempt and the final acknowledgement are written
to the record.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from adapters.smpp.errors import NotConnectedError
from adapters.smpp.pdu import DeliverSm, Envelope, Unbind
from adapters.smpp.session import SmppSession
from adapters.smsc.config import SimConfig
from adapters.smsc.deliveries import receipt_pdu, reply_pdu
from adapters.smsc.record import DeliveryRow, RecordWriter, SubmitRow


class Owed:
    """A deliver_sm owed to a system_id until it is acknowledged."""

    __slots__ = ("origin", "pdu", "row", "system_id")

    def __init__(self, row: DeliveryRow, submit: SubmitRow, config: SimConfig) -> None:
        self.row = row
        self.system_id = submit.system_id
        self.origin: Link | None = None
        """The connection the submit_sm came in on (None: unknown)."""
        self.pdu: DeliverSm = (
            receipt_pdu(submit, row, config)
            if row.kind == "dlr"
            else reply_pdu(submit, row, config)
        )


class Link:
    """One bound connection as the courier sees it."""

    def __init__(self) -> None:
        self.session: SmppSession | None = None
        self.system_id: str | None = None
        self.in_flight = 0
        self.delivering = 0
        self.owed: deque[Owed] = deque()
        """Deliveries of the submits that came in on this connection."""


class Courier:
    def __init__(
        self,
        config: SimConfig,
        writer: RecordWriter,
        bump: Callable[[str], None],
        schedule_flush: Callable[[], None],
    ) -> None:
        self.config = config
        self.writer = writer
        self._bump = bump
        self._schedule_flush = schedule_flush
        self._loop = asyncio.get_running_loop()
        self._bound: dict[str, list[Link]] = {}
        self._owed: dict[str, deque[Owed]] = {}

    def attach(self, link: Link, system_id: str) -> None:
        """``link`` is bound as ``system_id``: what is owed to it can flow."""
        self._bound.setdefault(system_id, []).append(link)
        self._pump(system_id)

    def detach(self, link: Link) -> None:
        links = self._bound.get(link.system_id or "", [])
        if link in links:
            links.remove(link)
        while link.owed:  # the connection is gone: any other of its system_id takes them
            item = link.owed.popleft()
            item.origin = None
            self._owed.setdefault(item.system_id, deque()).append(item)
        if link.system_id:
            self._pump(link.system_id)

    async def unbind_all(self, timeout: float = 1.0) -> None:
        """Say unbind on every bound link, as an SMSC going down does, then close them."""
        sessions = [link.session for links in self._bound.values() for link in links]
        waits = [s.request(Unbind(), timeout) for s in sessions if s is not None and s.is_open]
        if waits:
            await asyncio.wait(waits, timeout=timeout)
        for session in sessions:
            if session is not None:
                session.close()

    def schedule(self, item: Owed, delay: float | None = None) -> None:
        if delay is None:
            delay = item.row.due_at - time.time()
        if delay > 0:
            self._loop.call_later(delay, self._enqueue, item)
        else:
            self._enqueue(item)

    def _enqueue(self, item: Owed) -> None:
        if item.origin is not None and item.origin in self._bound.get(item.system_id, ()):
            item.origin.owed.append(item)
        else:
            item.origin = None
            self._owed.setdefault(item.system_id, deque()).append(item)
        self._pump(item.system_id)

    def _pump(self, system_id: str) -> None:
        queue = self._owed.get(system_id)
        links = self._bound.get(system_id)
        window = self.config.deliver_window
        for link in links or ():
            while link.owed and link.delivering < window:
                self.send(link, link.owed.popleft())
        while queue and links:
            conn = min(links, key=lambda c: c.delivering)
            if conn.delivering >= window:
                return
            self.send(conn, queue.popleft())

    def send(self, conn: Link, item: Owed) -> None:
        if conn.session is None:
            self._retry(item)
            return
        try:
            future = conn.session.request(item.pdu, self.config.deliver_timeout)
        except NotConnectedError:
            self._retry(item)
            return
        conn.delivering += 1
        future.add_done_callback(lambda f: self._answered(conn, item, f))

    def _answered(self, conn: Link, item: Owed, future: asyncio.Future[Envelope]) -> None:
        conn.delivering -= 1
        status = -1 if future.cancelled() or future.exception() else future.result().command_status
        if status == 0:
            self.writer.delivery_acked(item.row.id, time.time())
            self._schedule_flush()
        else:
            self.writer.delivery_attempted(item.row.id, status)
            self._retry(item)
        self._pump(item.system_id)

    def _retry(self, item: Owed) -> None:
        self._bump("redeliveries")
        self.schedule(item, self.config.redeliver_after)
