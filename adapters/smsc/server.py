"""The simulated SMSC: accepts binds and submits, answers by scenario, sends receipts and MO.

One ``Simulator`` owns the record, the scenario and the deliveries owed to each system_id; one
``Connection`` per TCP client holds that link's bind and counters. Submits are answered only
after their record row is committed (see ``adapters.smsc.record``); receipts and MO go through
the ``Courier`` (``adapters.smsc.courier``).

In-flight is counted as the carrier sees it: submits received and not yet answered (a submit
chosen for no response stops counting when its answer would have gone). Its maximum is the
``max_in_flight`` stat, which shows whether a client kept to its window.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from adapters.smpp.constants import CommandStatus, Tag
from adapters.smpp.pdu import (
    BindTransceiver,
    BindTransceiverResp,
    EnquireLink,
    EnquireLinkResp,
    Envelope,
    GenericNack,
    QuerySm,
    QuerySmResp,
    SubmitSm,
    SubmitSmResp,
    Unbind,
    UnbindResp,
)
from adapters.smpp.receipt import NUMBER_BY_STATE, DeliveryState
from adapters.smpp.session import SmppSession
from adapters.smpp.smpptime import format_smpp_time, parse_relative_smpp_time, parse_smpp_time
from adapters.smpp.tlv import find
from adapters.smpp.udh import part_info
from adapters.smsc.config import SimConfig
from adapters.smsc.courier import Courier, Link, Owed
from adapters.smsc.deliveries import message_id_of
from adapters.smsc.record import DeliveryRow, RecordWriter, SubmitRow
from adapters.smsc.scenario import Fate, Scenario

log = logging.getLogger(__name__)
SERVER_SYSTEM_ID = "KontorSim"
_REFUSALS: dict[int, str] = {
    CommandStatus.ESME_RTHROTTLED: "throttled",
    CommandStatus.ESME_RMSGQFUL: "queue_full",
}


class Connection(Link):
    def __init__(self, simulator: Simulator) -> None:
        super().__init__()
        self.simulator = simulator

    def on_request(self, session: SmppSession, envelope: Envelope) -> None:
        self.session = session
        self.simulator.handle(self, session, envelope)

    def on_closed(self, session: SmppSession, exc: Exception | None) -> None:
        self.simulator.forget(self)


class Simulator:
    def __init__(self, config: SimConfig, writer: RecordWriter) -> None:
        self.config = config
        self.writer = writer
        self._seq, self._delivery_id = writer.last_ids()
        self._first_seq = self._seq if config.ids_restart else 0
        """Ids are numbered from here (an SMSC whose ids start again after a restart)."""
        self.scenario = Scenario(config, self._seq)
        self._loop = asyncio.get_running_loop()
        self._flush_scheduled = False
        self._server: asyncio.Server | None = None
        self.stats = writer.stats
        self.courier = Courier(config, writer, self._bump, self._schedule_flush)
        self.last_submit = 0.0
        """Event-loop time of the last submit_sm (the simulator is quiet when it is long ago)."""

    async def start(self) -> int:
        """Listen; return the port. Deliveries not acknowledged before a restart are owed again."""
        for row, submit in self.writer.pending_deliveries():
            self.courier.schedule(Owed(row, submit, self.config))
        self._server = await self._loop.create_server(
            lambda: SmppSession(Connection(self), name="smsc"), self.config.host, self.config.port
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        await self.courier.unbind_all()
        await asyncio.sleep(0.05)  # let the transports flush what was written
        self.writer.close()

    def _bump(self, key: str, by: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + by
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        self.writer.flush()

    # requests -----------------------------------------------------------------------------

    def handle(self, conn: Connection, session: SmppSession, envelope: Envelope) -> None:
        pdu = envelope.pdu
        if isinstance(pdu, SubmitSm):
            self._submit(conn, session, envelope, pdu)
        elif isinstance(pdu, EnquireLink):
            session.respond(envelope, EnquireLinkResp())
            self._bump("enquire_links")
        elif isinstance(pdu, BindTransceiver):
            self._bind(conn, session, envelope, pdu)
        elif isinstance(pdu, QuerySm):
            self._query(conn, session, envelope, pdu)
        elif isinstance(pdu, Unbind):
            session.respond(envelope, UnbindResp())
            session.close()
            self._bump("unbinds")
        else:
            session.respond(envelope, GenericNack(), CommandStatus.ESME_RINVCMDID)

    def _bind(
        self, conn: Connection, session: SmppSession, envelope: Envelope, pdu: BindTransceiver
    ) -> None:
        accounts = dict(self.config.accounts)
        if conn.system_id is not None:
            status: int = CommandStatus.ESME_RALYBND
        elif pdu.system_id not in accounts:
            status = CommandStatus.ESME_RINVSYSID
        elif accounts[pdu.system_id] != pdu.password:
            status = CommandStatus.ESME_RINVPASWD
        else:
            status = CommandStatus.ESME_ROK
        session.respond(envelope, BindTransceiverResp(SERVER_SYSTEM_ID), status)
        if status != CommandStatus.ESME_ROK:
            self._bump("bind_failures")
            log.info("bind refused", extra={"system_id": pdu.system_id, "status": status})
            return
        conn.system_id = pdu.system_id
        self._bump("binds")
        log.info("bound", extra={"system_id": pdu.system_id, "peer": session.peer})
        self.courier.attach(conn, pdu.system_id)

    def forget(self, conn: Connection) -> None:
        if conn.system_id is not None:
            self.courier.detach(conn)
            log.info("connection closed", extra={"system_id": conn.system_id})

    def _submit(
        self, conn: Connection, session: SmppSession, envelope: Envelope, pdu: SubmitSm
    ) -> None:
        self.last_submit = self._loop.time()
        if conn.system_id is None:
            session.respond(envelope, SubmitSmResp(), CommandStatus.ESME_RINVBNDSTS)
            return
        conn.in_flight += 1
        if conn.in_flight > self.stats.get("max_in_flight", 0):
            self.stats["max_in_flight"] = conn.in_flight
        status = self.scenario.screen(conn.system_id, pdu.destination_addr, self._loop.time())
        if status:
            conn.in_flight -= 1
            self._bump(_REFUSALS.get(status, "rejected"))
            session.respond(envelope, SubmitSmResp(), status)
            return
        self._seq += 1
        fate = self.scenario.fate()
        submit = self._row(conn.system_id, pdu, fate)
        self.writer.add_submit(submit)
        owed = [Owed(row, submit, self.config) for row in self._deliveries(submit, pdu, fate)]
        for item in owed:
            self.writer.add_delivery(item.row)
        self.writer.after_commit(lambda: self._answer(conn, envelope, submit, fate, owed))
        self._schedule_flush()

    def _row(self, system_id: str, pdu: SubmitSm, fate: Fate) -> SubmitRow:
        payload = pdu.short_message or find(pdu.tlvs, Tag.MESSAGE_PAYLOAD) or b""
        part = part_info(pdu.short_message, pdu.esm_class, pdu.tlvs)
        return SubmitRow(
            seq=self._seq,
            message_id=message_id_of(self._seq - self._first_seq, self.config),
            system_id=system_id,
            source_addr=pdu.source_addr,
            source_ton=pdu.source_addr_ton,
            source_npi=pdu.source_addr_npi,
            destination_addr=pdu.destination_addr,
            data_coding=pdu.data_coding,
            esm_class=pdu.esm_class,
            registered_delivery=pdu.registered_delivery,
            payload_hex=payload.hex(),
            udh_ref=part.reference if part else None,
            udh_part=part.part if part else None,
            udh_total=part.total if part else None,
            received_at=time.time(),
            effects=fate.effects,
            validity_period=pdu.validity_period,
        )

    def _deliveries(self, submit: SubmitRow, pdu: SubmitSm, fate: Fate) -> list[DeliveryRow]:
        rows: list[DeliveryRow] = []
        last_part = submit.udh_part is None or submit.udh_part == submit.udh_total
        wants_receipt = pdu.registered_delivery & 0x03
        if wants_receipt and (self.config.concat_dlr == "per-part" or last_part):
            state = DeliveryState.UNDELIVERABLE if fate.undeliverable else DeliveryState.DELIVERED
            error = self.config.undeliverable_error if fate.undeliverable else 0
            delay = 0.0 if fate.dlr_before_response else fate.dlr_delay
            validity = validity_seconds(pdu.validity_period, submit.received_at)
            if validity is not None and delay > validity:
                # Not delivered within its validity period: the SMSC gives up then.
                state, error, delay = DeliveryState.EXPIRED, 0, validity
            self._delivery_id += 1
            due = submit.received_at + delay
            rows.append(DeliveryRow(self._delivery_id, "dlr", submit.seq, state, error, due))
        if fate.mo_delay is not None and last_part:
            rows += self._reply_rows(submit, fate, fate.mo_delay)
        return rows

    def _reply_rows(self, submit: SubmitRow, fate: Fate, delay: float) -> list[DeliveryRow]:
        """A reply's deliver_sm: one, or a part each (``state`` ``mo:SEQ/TOTAL``), in the
        configured order, one of them missing when the fate says so."""
        total = self.config.mo_parts
        rows = []
        for sequence in range(1, total + 1):
            if total > 1 and sequence == fate.mo_missing_part:
                continue
            order = total - sequence if self.config.mo_order == "reversed" else sequence
            self._delivery_id += 1
            due = submit.received_at + delay + 0.02 * order
            state = "mo" if total == 1 else f"mo:{sequence}/{total}"
            rows.append(DeliveryRow(self._delivery_id, "mo", submit.seq, state, 0, due))
        return rows

    def _answer(
        self, conn: Connection, envelope: Envelope, submit: SubmitRow, fate: Fate, owed: list[Owed]
    ) -> None:
        for item in owed:
            item.origin = conn
            if fate.dlr_before_response and item.row.kind == "dlr" and conn.session is not None:
                self.courier.send(conn, item)  # ahead of the response, past the window
            else:
                self.courier.schedule(item)
        if fate.no_response:
            conn.in_flight -= 1
        elif fate.response_delay:
            self._loop.call_later(fate.response_delay, self._respond, conn, envelope, submit, fate)
        else:
            self._respond(conn, envelope, submit, fate)

    def _respond(self, conn: Connection, envelope: Envelope, submit: SubmitRow, fate: Fate) -> None:
        conn.in_flight -= 1
        if conn.session is None:
            return
        conn.session.respond(envelope, SubmitSmResp(submit.message_id))
        if fate.disconnect:
            self._bump("disconnects")
            conn.session.close()

    def _query(
        self, conn: Connection, session: SmppSession, envelope: Envelope, pdu: QuerySm
    ) -> None:
        found = self.writer.find_submit(pdu.message_id)
        if conn.system_id is None or found is None or found[0].system_id != conn.system_id:
            status = (
                CommandStatus.ESME_RINVBNDSTS
                if conn.system_id is None
                else CommandStatus.ESME_RQUERYFAIL
            )
            session.respond(envelope, QuerySmResp(), status)
            return
        _, dlr = found
        state, final_date, error = DeliveryState.ENROUTE, "", 0
        if dlr is not None and dlr.due_at <= time.time():
            state = DeliveryState(dlr.state)
            final_date = format_smpp_time(datetime.fromtimestamp(dlr.due_at, UTC))
            error = min(dlr.error_code, 255)
        session.respond(
            envelope, QuerySmResp(pdu.message_id, final_date, NUMBER_BY_STATE[state], error)
        )


def validity_seconds(validity_period: str, received_at: float) -> float | None:
    """How long after ``received_at`` a submit_sm's validity_period ends (relative or absolute
    time); ``None`` without one (the SMSC's default, unlimited here)."""
    relative = parse_relative_smpp_time(validity_period)
    if relative is not None:
        return relative.total_seconds()
    until = parse_smpp_time(validity_period)
    return None if until is None else max(0.0, until.timestamp() - received_at)
