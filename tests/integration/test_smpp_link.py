"""The client keeps its bind alive: dead links are noticed, lost binds come back."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from adapters.smpp.client import SmppClient
from adapters.smpp.config import ClientConfig
from adapters.smpp.errors import ConnectionLostError
from adapters.smpp.outcomes import NotSent, PartAccepted, SubmitRequest
from adapters.smpp.pdu import BindTransceiver, BindTransceiverResp, EnquireLink, Envelope
from adapters.smpp.session import SmppSession
from tests.support.smsc import Inbox, RunningSimulator, eventually

REQUEST = SubmitRequest(source="Kontor", destination="+491701234567", payload=b"x")


class GoesSilent:
    """An SMSC peer that binds anyone, then never answers again on its first connection:
    a link that a NAT box dropped without telling either side."""

    def __init__(self) -> None:
        self.connections = 0
        self.enquire_links = 0

    def on_request(self, session: SmppSession, envelope: Envelope) -> None:
        if isinstance(envelope.pdu, BindTransceiver):
            self.connections += 1
            session.respond(envelope, BindTransceiverResp("silent"))
        elif isinstance(envelope.pdu, EnquireLink):
            self.enquire_links += 1

    def on_closed(self, session: SmppSession, exc: Exception | None) -> None:
        return None


async def test_a_link_that_stops_answering_enquire_link_is_dropped_and_bound_again() -> None:
    peer = GoesSilent()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SmppSession(peer, name="peer"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = ClientConfig(
        host="127.0.0.1",
        port=port,
        system_id="k",
        password="p",
        enquire_link_interval=0.2,
        response_timeout=0.3,
        reconnect_initial=0.05,
    )
    try:
        async with SmppClient(config, Inbox()) as client:
            await eventually(lambda: client.binds >= 2)
    finally:
        server.close()
    assert peer.enquire_links >= 1
    assert peer.connections >= 2


async def test_the_client_binds_again_when_the_smsc_comes_back(tmp_path: Path) -> None:
    sim = RunningSimulator(tmp_path / "smsc.sqlite", [])
    sim.start()
    try:
        config = sim.client_config(connect_wait=0.3)
        async with SmppClient(config, Inbox()) as client:
            assert isinstance(await client.submit(REQUEST), PartAccepted)
            sim.stop()
            await eventually(lambda: not client.bound)  # noticed when the loop next runs
            assert await client.submit(REQUEST) == NotSent("not bound")
            sim.start()
            await eventually(lambda: client.bound)
            assert isinstance(await client.submit(REQUEST), PartAccepted)
            assert client.binds == 2
    finally:
        sim.stop()
    with sim.record() as record:
        assert record.count_submits() == 2


async def test_a_request_nobody_awaits_any_more_fails_without_an_unretrieved_error() -> None:
    """A submit whose caller was cancelled (shutdown) leaves its request to fail when the
    link drops; asyncio must not then report "Future exception was never retrieved"."""
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    server = await loop.create_server(
        lambda: SmppSession(GoesSilent(), name="peer"), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    try:
        _, session = await loop.create_connection(
            lambda: SmppSession(GoesSilent(), name="client"), "127.0.0.1", port
        )
        abandoned = session.request(EnquireLink(), timeout=30)
        waiting = asyncio.ensure_future(session.request(EnquireLink(), timeout=30))
        await asyncio.sleep(0.05)
        session.abort()
        await session.wait_closed()
        assert abandoned.done()
        with_error = await asyncio.gather(waiting, return_exceptions=True)
        assert isinstance(with_error[0], ConnectionLostError)  # an awaiter still sees it
        del abandoned
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
        server.close()
    assert [c for c in reported if "never retrieved" in str(c.get("message", ""))] == []
