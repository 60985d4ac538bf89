"""The carriers file: binds, their carrier names, and routes."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from adapters.carriers import CarriersFileError, parse_carriers, simulator_carriers
from domain.tariff import Tariff
from kontor.secrets import write_private

ROUTES = [{"tariffs": [t.value for t in Tariff], "bind": "a"}]


def bind(name: str, port: int = 2775, **extra: object) -> dict[str, object]:
    return {"name": name, "port": port, "system_id": "kontor", "password": "pw", **extra}


def test_a_binds_carrier_is_its_name_unless_the_file_gives_one() -> None:
    carriers = parse_carriers(
        {"binds": [bind("a"), bind("b", port=2776, carrier="acme")], "routes": ROUTES}
    )
    assert carriers.binds["a"].carrier == "a"
    assert carriers.binds["b"].carrier == "acme"


def test_binds_of_one_carrier_account_must_share_a_carrier_name() -> None:
    with pytest.raises(CarriersFileError, match="same carrier account"):
        parse_carriers({"binds": [bind("a"), bind("b")], "routes": ROUTES})
    shared = parse_carriers(
        {"binds": [bind("a", carrier="sim"), bind("b", carrier="sim")], "routes": ROUTES}
    )
    assert {b.carrier for b in shared.binds.values()} == {"sim"}


def test_the_simulators_file_names_one_carrier_whatever_its_port() -> None:
    first = parse_carriers(tomllib.loads(simulator_carriers(2775, "kontor", "pw")))
    later = parse_carriers(tomllib.loads(simulator_carriers(40123, "kontor", "pw")))
    assert {b.carrier for b in first.binds.values()} == {"simulator"}
    assert {b.carrier for b in later.binds.values()} == {"simulator"}


def test_the_carriers_file_kontor_up_writes_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "carriers.toml"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, simulator_carriers(2775, "kontor", "secret"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "secret" in path.read_text()
