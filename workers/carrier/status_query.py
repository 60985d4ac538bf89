"""The status query: operators' questions about one part of a message (``StatusQuery`` on
``<P>_QUERY``), asked of the carrier with query_sm over the bind's client; the answers are
recorded as delivery reports by ``services.status_queries.StatusQueries``, then every question
of the fetch is acknowledged (an unanswered one is dropped: the operator asks again)."""

from __future__ import annotations

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig

from adapters.carriers import Bind
from adapters.jetstream.payloads import query_decoder
from adapters.smpp.client import SmppClient
from services.ports import Clock
from services.status_queries import StatusQueries
from workers.runtime import WorkerRuntime


class StatusQuery:
    def __init__(
        self, runtime: WorkerRuntime, bind: Bind, client: SmppClient, clock: Clock
    ) -> None:
        self.runtime = runtime
        self.bind = bind
        self.service = StatusQueries(
            route=bind.name, carrier=client, recorder=runtime.backend.messaging, clock=clock
        )

    async def run(self) -> None:
        topology = self.runtime.topology
        subscription = await self.runtime.nats.jetstream.pull_subscribe(
            topology.query_subject(self.bind.name),
            durable=topology.consumer("query", self.bind.name),
            stream=topology.query_stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, ack_wait=120),
        )
        while not self.runtime.stop.is_set():
            try:
                msgs = await subscription.fetch(100, timeout=0.5)
            except (TimeoutError, NatsTimeout):
                continue
            await self.service.answer([query_decoder.decode(m.data) for m in msgs])
            for msg in msgs:
                await msg.ack()
