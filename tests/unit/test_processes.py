"""The worker processes ``kontor up`` (and the e2e pipeline) runs, their lanes and priorities."""

from __future__ import annotations

from kontor.processes import BULK_NICE, TX_NICE, instances, niced
from settings import Settings


def test_the_send_path_runs_per_lane_and_campaign_work_is_niced() -> None:
    processes = {p.name: p for p in instances(Settings(carrier_processes=2))}
    lanes = {name: p.env.get("KONTOR_LANES") for name, p in processes.items()}
    assert {n: lanes[n] for n in ("relay-tx", "dispatcher-tx", "carrier-tx")} == dict.fromkeys(
        ("relay-tx", "dispatcher-tx", "carrier-tx"), "tx"
    )
    assert {n: lanes[n] for n in ("relay", "dispatcher", "carrier", "carrier-2")} == dict.fromkeys(
        ("relay", "dispatcher", "carrier", "carrier-2"), "bulk"
    )
    assert "carrier-3" not in processes
    ahead = {name for name, p in processes.items() if p.nice == TX_NICE}
    assert ahead == {"relay-tx", "dispatcher-tx", "carrier-tx"}
    assert {name for name, p in processes.items() if p.nice == 0} == {"sweeper", "imports"}
    assert {p.nice for p in processes.values()} == {TX_NICE, 0, BULK_NICE}
    # every process's database sessions carry its own name (pg_stat_activity, pgpriority)
    assert {p.env["PGAPPNAME"] for p in processes.values()} == {
        f"kontor-{name}" for name in processes
    }


def test_a_niced_process_starts_under_nice() -> None:
    assert niced(["kontor", "worker", "relay"], 10) == [
        "nice",
        "-n",
        "10",
        "kontor",
        "worker",
        "relay",
    ]
    assert niced(["kontor", "worker", "relay"], 0) == ["kontor", "worker", "relay"]
