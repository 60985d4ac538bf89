"""``kontor preview`` as a user runs it: a process of its own, no database, no server."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

KEYS = {
    "to_e164",
    "to_display",
    "number_type",
    "encoding",
    "characters",
    "units",
    "segments",
    "price",
    "error",
}


def _kontor_preview(*args: str) -> tuple[int, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "kontor", "preview", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def test_the_cli_prints_every_key_for_every_recipient_and_the_total() -> None:
    status, document = _kontor_preview(
        "--text",
        "Hallo {vorname|Kunde}, Ihr Paket ist da.",
        "--to",
        "0171/2345678",
        "--to",
        "0171",
        "--to",
        "+41 79 123 45 67",
        "--sender",
        "Kontor",
    )
    assert status == 0
    ok, invalid, swiss = document["recipients"]
    for row in document["recipients"]:
        assert row.keys() >= KEYS
    assert {key: ok[key] for key in KEYS} == {
        "to_e164": "+491712345678",
        "to_display": "00491712345678",
        "number_type": "mobile",
        "encoding": "GSM-7",
        "characters": 30,
        "units": 30,
        "segments": 1,
        "price": 790,  # the shipped price list, quality (the default tariff)
        "error": None,
    }
    assert invalid["error"] is not None
    assert (invalid["to_e164"], invalid["price"], invalid["characters"]) == (None, None, 30)
    assert (swiss["number_type"], swiss["price"]) == ("mobile", 890)
    assert document["total_price"] == 790 + 890
    assert document["vat"] == 319  # 19 % of 1,680 = 319.2


def test_the_cli_takes_a_tariff_and_normalizes_when_asked() -> None:
    status, document = _kontor_preview(
        "--text",
        "Bis gleich – Ihr Team…",
        "--to",
        "+491712345678",
        "--tariff",
        "economy",
        "--normalize",
    )
    assert status == 0
    (row,) = document["recipients"]
    assert (row["encoding"], row["characters"], row["price"]) == ("GSM-7", 24, 590)
    assert document["tariff"] == "economy"


def test_the_cli_refuses_a_text_over_1500_characters_per_recipient_with_the_count() -> None:
    status, document = _kontor_preview("--text", "a" * 1_501, "--to", "+491712345678")
    assert status == 0
    (row,) = document["recipients"]
    assert "1,501" in row["error"]
    assert (row["characters"], row["price"], row["segments"]) == (1_501, None, None)
    assert document["total_price"] == 0


def test_the_cli_reports_an_unknown_tariff_as_json_with_status_2() -> None:
    status, document = _kontor_preview("--text", "Hi", "--to", "+491712345678", "--tariff", "gold")
    assert status == 2
    assert document["error_code"] == "unknown-tariff"
    assert "economy" in document["error"]
