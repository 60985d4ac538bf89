"""The long-running workers ``kontor up`` starts, by name (``kontor worker NAME`` runs one)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

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


def instances(settings: Settings) -> list[tuple[str, str]]:
    """(process name, worker name) of every worker process to run: one of each, and
    ``KONTOR_CARRIER_PROCESSES`` carrier senders (``carrier``, ``carrier-2``, ...)."""
    names: list[tuple[str, str]] = []
    for worker in WORKERS:
        copies = max(1, settings.carrier_processes) if worker == "carrier" else 1
        names += [(worker if n == 0 else f"{worker}-{n + 1}", worker) for n in range(copies)]
    return names
