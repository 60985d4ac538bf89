"""A busy transactional lane takes its backlog with the message it fetched: the carrier sender
works on them in one submit (one round of lookups), and a lane without one waits for nothing."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig

from tests.support.servers import unique_name
from workers.carrier.submitter import _backlog


class Fetches:
    def __init__(self, subscription: Any) -> None:
        self.subscription = subscription
        self.calls = 0

    async def fetch(self, batch: int, timeout: float) -> list[Any]:
        self.calls += 1
        return list(await self.subscription.fetch(batch, timeout=timeout))


async def test_the_backlog_behind_a_fetched_message_comes_with_it(
    nats_client: NatsClient, nats_prefix: str
) -> None:
    js = nats_client.jetstream()
    stream = f"{nats_prefix}_{unique_name('bl')}".upper()
    subject = f"{stream.lower()}.tx"
    await js.add_stream(name=stream, subjects=[subject])
    try:
        for i in range(6):
            await js.publish(subject, str(i).encode())
        sub = await js.pull_subscribe(
            subject, durable="carrier", stream=stream,
            config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT),
        )  # fmt: skip
        (first,) = await sub.fetch(1, timeout=1.0)
        more = await _backlog(sub, first, 3)  # at most this many
        assert [m.data for m in [first, *more]] == [b"0", b"1", b"2", b"3"]
        rest = await _backlog(sub, more[-1], 31)
        assert [m.data for m in rest] == [b"4", b"5"]
        asked = Fetches(sub)
        assert await _backlog(asked, rest[-1], 31) == []
        assert asked.calls == 0  # nothing behind it: not even asked, so no wait
    finally:
        await js.delete_stream(stream)
