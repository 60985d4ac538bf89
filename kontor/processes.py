"""The long-running workers ``kontor up`` starts, by name (``kontor worker NAME`` runs one)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from kontor.settings import Settings

# name -> module in workers/ with ``run(settings) -> int``
WORKERS: dict[str, str] = {
    "projections": "workers.projections",
    "sweeper": "workers.sweeper",
    "relay": "workers.relay",
    "dispatcher": "workers.dispatcher",
    "carrier": "workers.carrier",
    "ingest": "workers.ingest",
    "settlement": "workers.settlement",
    "expander": "workers.expander",
    "imports": "workers.imports",
}


def worker_main(name: str) -> Callable[[Settings], int]:
    module = importlib.import_module(WORKERS[name])
    run: Callable[[Settings], int] = module.run
    return run


@dataclass(frozen=True)
class WorkerProcess:
    name: str
    worker: str
    env: dict[str, str] = field(default_factory=dict)
    nice: int = 0
    """Campaign work runs at a lower CPU priority than single messages and the API."""


BULK_NICE = 10
NICED = frozenset({"expander", "ingest", "settlement"})
"""Workers off the path from the API call to the carrier: campaign expansion, delivery receipts
and settlement. Under full load they yield the CPU to single messages; they catch up after."""


def instances(settings: Settings) -> list[WorkerProcess]:
    """Every worker process to run: one of each, a carrier sender for the transactional lane,
    ``KONTOR_CARRIER_PROCESSES`` carrier senders for campaigns, and the campaign carriers and
    the ``NICED`` workers at a lower priority."""
    processes: list[WorkerProcess] = []
    for worker in WORKERS:
        if worker == "carrier":
            processes.append(WorkerProcess("carrier-tx", worker, {"KONTOR_CARRIER_LANES": "tx"}))
            processes += [
                WorkerProcess(
                    "carrier" if n == 0 else f"carrier-{n + 1}",
                    worker,
                    {"KONTOR_CARRIER_LANES": "bulk"},
                    BULK_NICE,
                )
                for n in range(max(1, settings.carrier_processes))
            ]
        else:
            processes.append(WorkerProcess(worker, worker, nice=BULK_NICE * (worker in NICED)))
    return processes


def niced(argv: list[str], nice: int) -> list[str]:
    return ["nice", "-n", str(nice), *argv] if nice else argv
