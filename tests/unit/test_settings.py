from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from settings import ENV_PREFIX, Settings, SettingsError, field_docs, load_settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url is None
    assert settings.http_port == 8000


def test_values_are_parsed_by_their_declared_type() -> None:
    settings = load_settings(
        {
            "KONTOR_DATABASE_URL": "postgresql://u@h:1/db",
            "KONTOR_HTTP_PORT": "9001",
            "KONTOR_LOG_JSON": "false",
            "KONTOR_READY_TIMEOUT": "0.5",
            "KONTOR_VAR_DIR": "/srv/kontor",
            "UNRELATED": "x",
        }
    )
    assert settings.database_url == "postgresql://u@h:1/db"
    assert settings.http_port == 9001
    assert settings.log_json is False
    assert settings.ready_timeout == 0.5
    assert settings.var_dir == Path("/srv/kontor")


def test_an_unusable_value_names_its_variable() -> None:
    with pytest.raises(SettingsError, match="KONTOR_HTTP_PORT='eighty'"):
        load_settings({"KONTOR_HTTP_PORT": "eighty"})
    with pytest.raises(SettingsError, match="KONTOR_LOG_JSON"):
        load_settings({"KONTOR_LOG_JSON": "maybe"})


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.http_port = 1  # type: ignore[misc]


def test_every_field_is_documented() -> None:
    docs = field_docs()
    names = [f.name for f in dataclasses.fields(Settings)]
    assert names, "Settings has no fields"
    assert sorted(docs) == sorted(names)
    assert all(len(doc) > 20 for doc in docs.values())


def test_the_readme_lists_every_variable_and_no_other() -> None:
    text = README.read_text()
    documented = set(re.findall(r"`(KONTOR_[A-Z_]+)`", text))
    declared = {ENV_PREFIX + f.name.upper() for f in dataclasses.fields(Settings)}
    test_only = {"KONTOR_TEST_DATABASE_URL", "KONTOR_TEST_NATS_URL"}
    assert declared <= documented, f"missing from README: {sorted(declared - documented)}"
    assert documented - declared <= test_only, f"not settings: {sorted(documented - declared)}"


def test_the_readme_table_is_the_one_kontor_settings_prints() -> None:
    from settings import settings_table

    text = README.read_text()
    start = text.index("<!-- settings:start -->\n") + len("<!-- settings:start -->\n")
    end = text.index("<!-- settings:end -->")
    assert text[start:end].strip() == settings_table().strip(), (
        "README's configuration table is stale: paste the output of `kontor settings`"
    )


def test_lanes_are_parsed_and_a_wrong_lane_is_refused_at_load() -> None:
    assert load_settings({"KONTOR_LANES": " bulk "}).lane_set == {"bulk"}
    assert Settings().lane_set == {"tx", "bulk"}
    for wrong in ("bluk", "tx,campaign", ","):
        with pytest.raises(SettingsError, match="KONTOR_LANES"):
            load_settings({"KONTOR_LANES": wrong})
