"""The send path's JetStream topology: stream and subject names, and their creation.

Every name starts with the installation's prefix (``KONTOR_NATS_PREFIX``), so installations and
test runs share a NATS server without meeting. Work-queue streams hold what is still to do:

- ``<P>_OUT``: relay -> dispatcher. ``<p>.out.tx.<account>`` (transactional lane) and
  ``<p>.out.bulk.<account>`` (campaigns): one subject per account so the dispatcher can take
  turns between accounts.
- ``<P>_ROUTE``: dispatcher -> carrier sender, ``<p>.route.<route>.tx|bulk``.
- ``<P>_INBOUND``: carrier sender -> ingest: raw deliver_sm (receipts and MO) per route.
- ``<P>_QUERY``: operator's status questions (query_sm) per route.

Publishers set ``Nats-Msg-Id`` to the message id (or the PDU's identity), so JetStream drops a
republished duplicate inside the duplicate window (``KONTOR_NATS_DUPLICATE_WINDOW``); consumers
are idempotent beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError


@dataclass(frozen=True)
class Topology:
    prefix: str
    duplicate_window: float = 3600.0

    def stream(self, name: str) -> str:
        return f"{self.prefix}_{name}".upper().replace(".", "_").replace("-", "_")

    @property
    def out_stream(self) -> str:
        return self.stream("out")

    @property
    def route_stream(self) -> str:
        return self.stream("route")

    @property
    def inbound_stream(self) -> str:
        return self.stream("inbound")

    @property
    def query_stream(self) -> str:
        return self.stream("query")

    def out_subject(self, lane: str, account_id: UUID) -> str:
        return f"{self.prefix}.out.{lane}.{account_id.hex}"

    def out_lane_filter(self, lane: str) -> str:
        return f"{self.prefix}.out.{lane}.*"

    def route_subject(self, route: str, lane: str) -> str:
        return f"{self.prefix}.route.{route}.{lane}"

    def inbound_subject(self, route: str) -> str:
        return f"{self.prefix}.inbound.{route}"

    def query_subject(self, route: str) -> str:
        return f"{self.prefix}.query.{route}"

    def consumer(self, *parts: str) -> str:
        return "_".join((self.prefix, *parts)).replace(".", "_").replace("-", "_")

    async def ensure(self, js: JetStreamContext) -> None:
        """Create the streams unless they exist (idempotent; safe from every process)."""
        streams = {
            self.out_stream: [f"{self.prefix}.out.>"],
            self.route_stream: [f"{self.prefix}.route.>"],
            self.inbound_stream: [f"{self.prefix}.inbound.>"],
            self.query_stream: [f"{self.prefix}.query.>"],
        }
        for name, subjects in streams.items():
            try:
                await js.stream_info(name)
                continue
            except NotFoundError:
                pass
            await js.add_stream(
                StreamConfig(
                    name=name,
                    subjects=subjects,
                    retention=RetentionPolicy.WORK_QUEUE,
                    storage=StorageType.FILE,
                    duplicate_window=self.duplicate_window,
                )
            )
