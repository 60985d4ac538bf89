"""The simulator's configuration: presets combine, files and flags override, seeds repeat."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.smpp.constants import CommandStatus
from adapters.smsc.config import SimConfig, SimConfigError, build_config
from adapters.smsc.scenario import Scenario
from kontor.smsc_sim import config_from_args


def test_without_anything_the_simulator_is_the_happy_carrier() -> None:
    config = build_config()
    assert config.scenarios == ("happy",)
    assert (config.no_response, config.throttle_tps, config.disconnect_every) == (0.0, 0.0, 0)


def test_scenarios_combine() -> None:
    config = build_config(("throttle", "undeliverable", "text-dlr"))
    assert (config.throttle_tps, config.undeliverable, config.dlr_form) == (50.0, 0.1, "text")


def test_a_toml_file_adds_scenarios_and_flags_override_it(tmp_path: Path) -> None:
    toml = tmp_path / "sim.toml"
    toml.write_text(
        'scenarios = ["slow-dlr"]\nthrottle_tps = 75\nreject_prefixes = ["4900", "4901"]\n'
        'accounts = [["a", "b"], ["c", "d"]]\n'
    )
    config, _ = config_from_args(
        ["--config", str(toml), "--scenario", "mo", "--throttle-tps", "20", "--mo-text", "Ja"]
    )
    assert config is not None
    assert config.scenarios == ("slow-dlr", "mo")
    assert config.dlr_delay == (5.0, 30.0)
    assert config.throttle_tps == 20
    assert config.reject_prefixes == ("4900", "4901")
    assert config.accounts == (("a", "b"), ("c", "d"))
    assert (config.mo_share, config.mo_text) == (0.1, "Ja")


def test_flags_parse_pairs_accounts_and_hex_statuses() -> None:
    config, _ = config_from_args(
        ["--dlr-delay", "1,2", "--account", "x:y", "--reject-status", "0x45", "--dlr-seconds"]
    )
    assert config is not None
    assert (config.dlr_delay, config.accounts, config.reject_status) == (
        (1.0, 2.0),
        (("x", "y"),),
        0x45,
    )
    assert config.dlr_seconds is True


@pytest.mark.parametrize(
    ("scenarios", "overrides", "message"),
    [
        (("nonsense",), {}, "unknown scenario"),
        ((), {"colour": "blue"}, "unknown option"),
        ((), {"no_response": 1.5}, "share"),
        ((), {"dlr_delay": (3, 1)}, "min <= max"),
    ],
)
def test_a_bad_configuration_is_refused_with_its_reason(
    scenarios: tuple[str, ...], overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SimConfigError, match=message):
        build_config(scenarios, None, overrides)


def test_the_same_seed_gives_the_same_fates() -> None:
    config = SimConfig(seed=7, no_response=0.3, undeliverable=0.3, mo_share=0.3, dlr_delay=(0, 9))
    first, second = Scenario(config), Scenario(config)
    assert [first.fate() for _ in range(50)] == [second.fate() for _ in range(50)]
    assert [
        f.effects for f in (Scenario(SimConfig(seed=8, no_response=0.3)).fate() for _ in range(50))
    ] != [
        f.effects for f in (Scenario(SimConfig(seed=7, no_response=0.3)).fate() for _ in range(50))
    ]


def test_shares_come_out_near_their_configured_fraction() -> None:
    scenario = Scenario(SimConfig(seed=1, no_response=0.1, undeliverable=0.25))
    fates = [scenario.fate() for _ in range(4000)]
    assert sum(f.no_response for f in fates) == pytest.approx(400, rel=0.15)
    assert sum(f.undeliverable for f in fates) == pytest.approx(1000, rel=0.1)


def test_every_nth_accepted_submit_disconnects() -> None:
    scenario = Scenario(SimConfig(disconnect_every=3))
    assert [scenario.fate().disconnect for _ in range(7)] == [False, False, True] * 2 + [False]


def test_throttling_allows_one_second_of_burst_then_the_rate() -> None:
    scenario = Scenario(SimConfig(throttle_tps=10))
    answers = [scenario.screen("kontor", "49170", 5.0) for _ in range(15)]
    assert answers.count(0) == 10
    assert answers.count(CommandStatus.ESME_RTHROTTLED) == 5
    assert scenario.screen("kontor", "49170", 5.15) == 0
    assert scenario.screen("other", "49170", 5.1) == 0


def test_rejected_prefixes_are_refused_with_the_configured_status() -> None:
    scenario = Scenario(SimConfig(reject_prefixes=("4900",), reject_status=0x0B))
    assert scenario.screen("kontor", "490012345", 0.0) == CommandStatus.ESME_RINVDSTADR
    assert scenario.screen("kontor", "491701234", 0.0) == 0
