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
