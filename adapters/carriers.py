"""The carriers file: SMPP binds and the routes that choose them.

```toml
[[binds]]                 # one SMPP 3.4 bind_transceiver
name = "standard"         # also the route name in subjects and events
carrier = "acme"          # the carrier account's stable name (default: the bind's name)
host = "127.0.0.1"
port = 2775
system_id = "kontor"
password = "secret"
window = 64               # outstanding submit_sm at most
tps = 500                 # SMS parts per second through this bind (the dispatcher's rate)
unanswered = "resubmit"   # a submit whose answer is lost: "resubmit" after resubmit_after
resubmit_after = 30       # seconds (unless its receipt comes first), or "report" it uncertain

[[routes]]                # first match wins
tariffs = ["economy", "quality"]
regions = ["*"]           # ISO regions of the destination, "*" for any
bind = "standard"
```

Carrier message ids are unique per carrier account, and an SMSC may send a receipt over any bind
of the account, so receipts are matched by ``carrier`` and carrier id. ``carrier`` is a name,
not an address: a carrier that moves to another host or port keeps its messages' receipts. Binds
that log in to the same account must name the same ``carrier`` (a file that leaves them apart is
refused). The High Quality tariff goes over its own bind. ``kontor up`` writes a file like this
for the bundled SMSC simulator when ``KONTOR_CARRIERS_FILE`` is not set.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.tariff import Tariff


class CarriersFileError(ValueError):
    """The carriers file names each bind once, gives every route an existing bind, and routes
    every tariff somewhere."""


@dataclass(frozen=True)
class Bind:
    name: str
    host: str
    port: int
    system_id: str
    password: str
    window: int = 64
    tps: float = 500.0
    carrier: str = ""
    """The carrier account's stable name (receipts match by it); empty: the bind's name."""
    unanswered: str = "resubmit"
    """What happens to a message whose submit was written but never answered (the link died,
    the sender died, the answer timed out): ``resubmit`` it after ``resubmit_after`` seconds,
    unless its receipt arrives first and shows the carrier has it (the default: a message
    counts more than a rare duplicate, which is recorded uncertain), or ``report`` it
    uncertain and never submit it again (no duplicate, ever; it may not have arrived)."""
    resubmit_after: float = 30.0

    @property
    def resubmit_delay(self) -> float | None:
        """Seconds before a message whose answer was lost goes again; None: never."""
        return self.resubmit_after if self.unanswered == "resubmit" else None

    def __post_init__(self) -> None:
        if not self.carrier:
            object.__setattr__(self, "carrier", self.name)

    @property
    def login(self) -> str:
        """Where and as whom the bind logs in: ``system_id@host:port``."""
        return f"{self.system_id}@{self.host}:{self.port}"


@dataclass(frozen=True)
class Route:
    tariffs: frozenset[Tariff]
    regions: frozenset[str]
    bind: str

    def matches(self, tariff: Tariff, region: str) -> bool:
        return tariff in self.tariffs and ("*" in self.regions or region in self.regions)


@dataclass(frozen=True)
class Carriers:
    binds: dict[str, Bind]
    routes: tuple[Route, ...]

    def route_for(self, tariff: Tariff, region: str) -> str:
        for route in self.routes:
            if route.matches(tariff, region):
                return route.bind
        raise CarriersFileError(f"no route for tariff {tariff} to {region}")


def parse_carriers(document: dict[str, Any]) -> Carriers:
    binds: dict[str, Bind] = {}
    for table in document.get("binds", []):
        try:
            bind = Bind(
                name=str(table["name"]),
                host=str(table.get("host", "127.0.0.1")),
                port=int(table["port"]),
                system_id=str(table["system_id"]),
                password=str(table["password"]),
                window=int(table.get("window", 64)),
                tps=float(table.get("tps", 500)),
                carrier=str(table.get("carrier", "")),
                unanswered=str(table.get("unanswered", "resubmit")),
                resubmit_after=float(table.get("resubmit_after", 30)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise CarriersFileError(f"bind {table.get('name', '?')}: {exc}") from exc
        if bind.name in binds:
            raise CarriersFileError(f"bind {bind.name} appears twice")
        if bind.unanswered not in ("resubmit", "report"):
            raise CarriersFileError(f"bind {bind.name}: unanswered is resubmit or report")
        if bind.resubmit_after < 0:
            raise CarriersFileError(f"bind {bind.name}: resubmit_after is seconds, 0 or more")
        binds[bind.name] = bind
    _one_name_per_account(binds.values())
    routes = []
    for table in document.get("routes", []):
        bind_name = str(table.get("bind", ""))
        if bind_name not in binds:
            raise CarriersFileError(f"route to unknown bind {bind_name!r}")
        try:
            tariffs = frozenset(Tariff(t) for t in table.get("tariffs", list(Tariff)))
        except ValueError as exc:
            raise CarriersFileError(str(exc)) from exc
        regions = frozenset(str(r) for r in table.get("regions", ["*"]))
        routes.append(Route(tariffs, regions, bind_name))
    for tariff in Tariff:
        if not any(tariff in r.tariffs for r in routes):
            raise CarriersFileError(f"no route sends the {tariff} tariff anywhere")
    return Carriers(binds, tuple(routes))


def _one_name_per_account(binds: Iterable[Bind]) -> None:
    named: dict[str, Bind] = {}
    for bind in binds:
        other = named.setdefault(bind.login, bind)
        if other.carrier != bind.carrier:
            raise CarriersFileError(
                f"binds {other.name} and {bind.name} log in to the same carrier account"
                f" ({bind.login}): give them the same carrier name"
            )


def load_carriers(path: Path) -> Carriers:
    try:
        return parse_carriers(tomllib.loads(path.read_text()))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CarriersFileError(f"{path}: {exc}") from exc


def simulator_carriers(
    port: int, system_id: str, password: str, tps: float = 3000, premium_tps: float = 1000
) -> str:
    """The carriers file for the bundled simulator: a standard and a premium bind."""
    return f"""# Written by kontor up for the bundled SMSC simulator.
[[binds]]
name = "standard"
carrier = "simulator"
host = "127.0.0.1"
port = {port}
system_id = "{system_id}"
password = "{password}"
window = 64
tps = {tps}

[[binds]]
name = "premium"
carrier = "simulator"
host = "127.0.0.1"
port = {port}
system_id = "{system_id}"
password = "{password}"
window = 32
tps = {premium_tps}

[[routes]]
tariffs = ["high-quality"]
bind = "premium"

[[routes]]
tariffs = ["economy", "quality"]
bind = "standard"
"""
