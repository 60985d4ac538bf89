"""The API's Prometheus metrics, on a listener of their own: ``KONTOR_METRICS_HOST`` (loopback by
default) and ``KONTOR_METRICS_PORT``, never the API's public port (which answers 404 there).

The registry is the process's default one: Litestar's request metrics (``kontor_requests_*``)
and, read from PostgreSQL at every scrape (``ReadSideCollector``), the read side's and the
workers' figures:

- ``kontor_projection_position`` / ``kontor_projection_behind_events``: each follower's
  notification id and how far its log's head is ahead of it;
- ``kontor_projection_failing`` (1 while a projection is held at an event it cannot apply),
  with ``kontor_projection_failing_notification_id``, ``kontor_projection_failure_attempts``
  and ``kontor_projection_failing_seconds`` (since first seen);
- ``kontor_worker_ready`` (1: ready and beating) and ``kontor_worker_silent_seconds``;
- ``kontor_read_side_up`` (0: the tables could not be read, nothing else is shown).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from psycopg_pool import ConnectionPool

from api.read_side import ReadSide, read_side

log = logging.getLogger(__name__)
FOLLOWER = ["projection", "application"]
WORKER = ["process", "host", "worker"]


def _families() -> dict[str, GaugeMetricFamily]:
    def gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=labels)

    return {
        "up": gauge("kontor_read_side_up", "1 when the read side's tables could be read"),
        "position": gauge(
            "kontor_projection_position", "Last notification id a follower applied", FOLLOWER
        ),
        "behind": gauge(
            "kontor_projection_behind_events",
            "Notifications recorded after a follower's position",
            FOLLOWER,
        ),
        "failing": gauge(
            "kontor_projection_failing",
            "1 while a projection is held at an event it cannot apply",
            FOLLOWER,
        ),
        "failing_id": gauge(
            "kontor_projection_failing_notification_id",
            "Notification id of the event a projection is held at",
            FOLLOWER,
        ),
        "attempts": gauge(
            "kontor_projection_failure_attempts",
            "Attempts at the event a projection is held at",
            FOLLOWER,
        ),
        "failing_for": gauge(
            "kontor_projection_failing_seconds",
            "Seconds since the event a projection is held at first failed",
            FOLLOWER,
        ),
        "ready": gauge(
            "kontor_worker_ready", "1 when a worker process is ready and beating", WORKER
        ),
        "silent": gauge(
            "kontor_worker_silent_seconds",
            "Seconds since a worker process's last heartbeat",
            WORKER,
        ),
    }


def read_side_metrics(state: ReadSide) -> list[GaugeMetricFamily]:
    families = _families()
    families["up"].add_metric([], 0.0 if state.unreadable else 1.0)
    now = datetime.now(UTC)
    for f in state.followers:
        labels = [f.name, f.application]
        families["position"].add_metric(labels, f.position)
        families["behind"].add_metric(labels, f.behind)
        families["failing"].add_metric(labels, 1.0 if f.failure else 0.0)
        if f.failure is not None:
            families["failing_id"].add_metric(labels, f.failure.notification_id)
            families["attempts"].add_metric(labels, f.failure.attempts)
            families["failing_for"].add_metric(
                labels, max(0.0, (now - f.failure.first_seen).total_seconds())
            )
    for w in state.workers:
        labels = [w.name, w.host, w.worker or ""]
        families["ready"].add_metric(labels, 1.0 if w.state == "ready" else 0.0)
        if w.silent_for is not None:
            families["silent"].add_metric(labels, w.silent_for)
    return list(families.values())


class ReadSideCollector(Collector):
    def __init__(self, pool: ConnectionPool[Any], timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout

    def describe(self) -> Iterator[Metric]:
        """The families without reading the database (the registry asks at registration)."""
        return iter(_families().values())

    def collect(self) -> Iterator[Metric]:
        return iter(read_side_metrics(read_side(self.pool, self.timeout)))


class MetricsListener:
    """The metrics HTTP listener (a daemon thread of prometheus_client's WSGI server)."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry = REGISTRY) -> None:
        self.host = host
        self.registry = registry
        self._server: WSGIServer
        self._server, _ = start_http_server(port, addr=host, registry=registry)
        self.port = int(self._server.server_port)
        log.info("metrics listening", extra={"url": self.url})

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
