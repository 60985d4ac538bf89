"""The long-running workers ``kontor up`` starts, by name (``kontor worker NAME`` runs one)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from settings import Settings

WORKERS: tuple[str, ...] = (
    "projections",
    "sweeper",
    "relay",
    "dispatcher",
    "carrier",
    "ingest",
    "settlement",
    "expander",
    "imports",
    "mailer",
    "callbacks",
)
"""Every worker ``kontor up`` runs, in start order (``kontor worker NAME`` runs one)."""


def worker_main(name: str) -> Callable[[Settings], int]:  # noqa: PLR0911 - a return per worker
    """The worker's ``run(settings) -> int``. Each module is imported only when it is the one
    asked for (a process runs one worker), and by a plain import the import contract sees."""
    if name == "projections":
        from workers import projections

        return projections.run
    if name == "sweeper":
        from workers import sweeper

        return sweeper.run
    if name == "relay":
        from workers import relay

        return relay.run
    if name == "dispatcher":
        from workers import dispatcher

        return dispatcher.run
    if name == "carrier":
        from workers import carrier

        return carrier.run
    if name == "ingest":
        from workers import ingest

        return ingest.run
    if name == "settlement":
        from workers import settlement

        return settlement.run
    if name == "expander":
        from workers import expander

        return expander.run
    if name == "imports":
        from workers import imports

        return imports.run
    if name == "mailer":
        from workers import mailer

        return mailer.run
    if name == "callbacks":
        from workers import callbacks

        return callbacks.run
    raise KeyError(name)


@dataclass(frozen=True)
class WorkerProcess:
    name: str
    worker: str
    env: dict[str, str] = field(default_factory=dict)
    nice: int = 0
    """Campaign work runs at a lower CPU priority than single messages and the API."""


BULK_NICE = 10
TX_NICE = -5
"""The API and the transactional lane's processes run ahead of everything else on the machine
(the SMSC simulator, NATS, the database's own work) where the operating system permits it (root
or CAP_SYS_NICE); elsewhere ``nice`` says it cannot and they run at 0.

Every process is started in a session of its own and gives the session its niceness
(``adapters.postgres.priority.lead_session_group``): where the kernel schedules sessions as groups
(autogroup), niceness otherwise only ranks processes within their shared session."""
NICED = frozenset({"expander", "ingest", "settlement", "projections", "mailer", "callbacks"})
"""Workers off the path from the API call to the carrier: campaign expansion, delivery receipts,
settlement and the read models. Under full load they yield the CPU to single messages and the
API (the read models then show states a moment late); they catch up after."""

LANED = frozenset({"relay", "dispatcher", "carrier"})
"""Workers on the path to the carrier, run per lane (``KONTOR_LANES``): the transactional lane's
process never shares an event loop, a GIL or a CPU share with a campaign's backlog."""


def instances(settings: Settings) -> list[WorkerProcess]:
    """Every worker process to run: one of each, but the ``LANED`` workers once for the
    transactional lane (``relay-tx``, ``dispatcher-tx``, ``carrier-tx``, at ``TX_NICE``) and
    once for campaigns at a lower priority (``KONTOR_CARRIER_PROCESSES`` campaign carrier
    senders), and the ``NICED`` workers at a lower priority. The transactional lane's database
    backends follow its priority (adapters/postgres/priority.py)."""
    processes: list[WorkerProcess] = []
    for worker in WORKERS:
        if worker in LANED:
            copies = max(1, settings.carrier_processes) if worker == "carrier" else 1
            processes.append(WorkerProcess(f"{worker}-tx", worker, {"KONTOR_LANES": "tx"}, TX_NICE))
            processes += [
                WorkerProcess(
                    worker if n == 0 else f"{worker}-{n + 1}",
                    worker,
                    {"KONTOR_LANES": "bulk"},
                    BULK_NICE,
                )
                for n in range(copies)
            ]
        else:
            processes.append(WorkerProcess(worker, worker, nice=BULK_NICE * (worker in NICED)))
    # Each process's database sessions carry its name (``application_name``): operators see who
    # runs a query, and a process finds the backends serving it (adapters/postgres/priority.py).
    return [replace(p, env={**p.env, **database_name(p.name)}) for p in processes]


def database_name(process: str) -> dict[str, str]:
    """The environment that names a process's database sessions (``application_name``)."""
    return {"PGAPPNAME": f"kontor-{process}"}


def niced(argv: list[str], nice: int) -> list[str]:
    return ["nice", "-n", str(nice), *argv] if nice else argv
