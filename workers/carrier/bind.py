"""One carrier bind of the carrier sender: its SMPP client, and the three workers that share it.

The client exists once per bind: the submitter's submit_sm, the status query's query_sm and
the SMSC's deliver_sm (to the receipt tap) all travel over its window. Start: the route's
inbound key first (sealing a deliver_sm then needs no database), then the bind, then the
workers; stop (the runtime's stop event): the submitter drains (no further part written; the
batches in work get their answers, record them and answer NATS), the other workers are
cancelled, then the client closes, finishing the deliveries in hand and unbinding.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from adapters.carriers import Bind
from adapters.crypto.inbound_keys import inbound_key_id
from adapters.smpp.client import SmppClient
from adapters.smpp.config import ClientConfig
from workers.carrier.receipt_tap import InboundStore, ReceiptTap
from workers.carrier.status_query import StatusQuery
from workers.carrier.submitter import Submitter
from workers.runtime import WorkerRuntime

DRAIN_SECONDS = 12.0
"""How long a stopping sender lets its batches in work finish: the answers to what is on the
wire (the client's response timeout is 10 s) and their recording, inside the 15 s ``kontor up``
gives a child to stop and the 20 s a worker gives itself."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class CarrierBind:
    def __init__(self, runtime: WorkerRuntime, bind: Bind) -> None:
        self.runtime = runtime
        self.bind = bind
        self.keyring = runtime.backend.keyring
        inbound = InboundStore(runtime.nats.jetstream, runtime.topology.inbound_subject(bind.name))
        self.tap = ReceiptTap(self.keyring, bind, inbound)
        self.client = SmppClient(
            ClientConfig(
                host=bind.host,
                port=bind.port,
                system_id=bind.system_id,
                password=bind.password,
                window=bind.window,
                name=bind.name,
            ),
            on_deliver=self.tap.on_deliver,
        )
        self.submitter = Submitter(runtime, bind, self.client, utc_now)
        self.status_query = StatusQuery(runtime, bind, self.client, utc_now)

    async def run(self) -> None:
        await asyncio.to_thread(self.keyring.create_key, inbound_key_id(self.bind.name))
        await self.client.start()
        tasks = [asyncio.create_task(self.status_query.run())]
        tasks += await self.submitter.start()
        try:
            await self.runtime.stop.wait()
        finally:
            await self.submitter.drain(DRAIN_SECONDS)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.client.close()
