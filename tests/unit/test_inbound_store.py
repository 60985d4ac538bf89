"""deliver_sm PDUs that arrive together are stored in JetStream as one batch."""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.jetstream.payloads import InboundPdu, inbound_decoder
from workers.carrier.receipt_tap import InboundStore


class FakeJetStream:
    """Records publishes; acknowledges them (or fails) like JetStream's publish_async."""

    def __init__(self, fail: bool = False) -> None:
        self.published: list[tuple[str, bytes, dict[str, str]]] = []
        self.fail = fail

    async def publish_async(self, subject: str, payload: bytes, headers: dict[str, str]) -> Any:
        self.published.append((subject, payload, headers))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail:
            ack.set_exception(ConnectionError("no JetStream"))
        else:
            ack.set_result(None)
        return ack


def pdu(n: int) -> tuple[InboundPdu, bytes]:
    raw = b"deliver_sm %d" % n
    return InboundPdu(route="sim", carrier="sim", received_at=1.0 + n, pdu=raw), raw


async def test_pdus_arriving_together_are_one_publish_and_each_waits_for_it() -> None:
    js = FakeJetStream()
    store = InboundStore(js, "p.inbound.sim")
    await asyncio.gather(*(store.store(*pdu(n)) for n in range(10)))
    await store.store(*pdu(10))  # a later one: a batch of its own
    assert len(js.published) == 2
    subject, payload, _ = js.published[0]
    assert subject == "p.inbound.sim"
    assert [i.received_at for i in inbound_decoder.decode(payload).items] == [
        1.0 + n for n in range(10)
    ]
    assert len(inbound_decoder.decode(js.published[1][1]).items) == 1
    # the same PDUs give the same id, so a batch stored twice is dropped by JetStream
    again = FakeJetStream()
    await InboundStore(again, "p.inbound.sim").store(*pdu(10))
    assert again.published[0][2] == js.published[1][2]
    assert js.published[0][2] != js.published[1][2]


async def test_a_failed_publish_fails_every_pdu_of_the_batch() -> None:
    store = InboundStore(FakeJetStream(fail=True), "p.inbound.sim")
    results = await asyncio.gather(
        *(store.store(*pdu(n)) for n in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_a_full_batch_goes_at_once() -> None:
    js = FakeJetStream()
    store = InboundStore(js, "p.inbound.sim")
    await asyncio.gather(*(store.store(*pdu(n)) for n in range(InboundStore.MAX_ITEMS + 1)))
    assert [len(inbound_decoder.decode(p).items) for _, p, _ in js.published] == [
        InboundStore.MAX_ITEMS,
        1,
    ]
