"""What the simulated carrier does: one frozen ``SimConfig`` built from presets, TOML and flags.

Named scenarios are presets of the same options, so they combine: ``--scenario throttle
--scenario undeliverable`` throttles and fails a share of messages. Later sources win:
defaults < scenarios (in the order given) < the TOML file < explicit flags. Shares are
fractions of accepted submits (0.1 = 10 %), delays are ``(min, max)`` seconds, drawn from one
``random.Random(seed)`` in arrival order, so a run with the same seed and traffic repeats itself.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adapters.smpp.constants import CommandStatus


class SimConfigError(ValueError):
    """An unknown scenario or option, or a value of the wrong kind."""


@dataclass(frozen=True, kw_only=True)
class SimConfig:
    host: str = "127.0.0.1"
    port: int = 2775
    accounts: tuple[tuple[str, str], ...] = (("kontor", "secret"),)
    """(system_id, password) pairs allowed to bind."""
    record: Path = Path("var/smsc/record.sqlite")
    seed: int = 0
    scenarios: tuple[str, ...] = ("happy",)
    response_delay: tuple[float, float] = (0.0, 0.0)
    """Seconds before a submit_sm_resp is sent (lets a client's window fill up)."""
    dlr_delay: tuple[float, float] = (0.05, 0.5)
    dlr_before_response: float = 0.0
    """Share of submits whose receipt is sent before their submit_sm_resp."""
    throttle_tps: float = 0.0
    """Submits per second per system_id above which the answer is 0x58 (0: no limit)."""
    reject_prefixes: tuple[str, ...] = ()
    reject_status: int = CommandStatus.ESME_RINVDSTADR
    queue_full: float = 0.0
    """Share of submits answered 0x14 (not accepted, not recorded)."""
    undeliverable: float = 0.0
    undeliverable_error: int = 1
    """``err:`` code (and GSM network_error_code) of an undeliverable receipt."""
    disconnect_every: int = 0
    """Close the connection right after answering every Nth accepted submit (0: never)."""
    no_response: float = 0.0
    """Share of submits accepted and recorded but never answered: the dangerous case."""
    mo_share: float = 0.0
    mo_text: str = "STOP"
    mo_delay: tuple[float, float] = (0.5, 2.0)
    mo_parts: int = 1
    """Parts each reply comes in (above 1: a concatenated reply, ``mo_text`` split evenly)."""
    mo_concat: Literal["udh", "udh16", "sar"] = "udh"
    """How the parts say which message they belong to: a user data header with an 8- or a
    16-bit reference, or the SAR TLVs."""
    mo_order: Literal["in-order", "reversed"] = "in-order"
    mo_missing: float = 0.0
    """Share of concatenated replies one part of which is never sent."""
    dlr_form: Literal["tlv+text", "text"] = "tlv+text"
    id_format: Literal["decimal", "hex"] = "decimal"
    """How message ids are written in submit_sm_resp and receipted_message_id."""
    ids_restart: bool = False
    """Start message ids again at the first one at every start of the simulator, as an
    independent SMSC may after a restart: an id then names several submits over time (the
    record keeps them all; receipts and query_sm go by the latest one)."""
    dlr_id_format: Literal["decimal", "hex"] | None = None
    """How the id is written in the receipt text (``None``: like ``id_format``)."""
    dlr_seconds: bool = False
    """12-digit dates (with seconds) in the receipt text instead of 10."""
    concat_dlr: Literal["per-part", "last-part"] = "per-part"
    deliver_window: int = 64
    """Most deliver_sm outstanding per connection."""
    deliver_timeout: float = 5.0
    redeliver_after: float = 1.0
    """Seconds before a deliver_sm that was refused or unanswered is sent again."""


PRESETS: dict[str, dict[str, Any]] = {
    "happy": {},
    "slow-dlr": {"dlr_delay": (5.0, 30.0)},
    "dlr-before-response": {"dlr_before_response": 1.0},
    "throttle": {"throttle_tps": 50.0},
    "reject": {"reject_prefixes": ("4900",)},
    "queue-full": {"queue_full": 0.05},
    "undeliverable": {"undeliverable": 0.1},
    "disconnect": {"disconnect_every": 100},
    "no-response": {"no_response": 0.01},
    "mo": {"mo_share": 0.1},
    "mo-multipart": {
        "mo_share": 0.1,
        "mo_parts": 3,
        "mo_order": "reversed",
        "mo_missing": 0.2,
        "mo_text": "Vielen Dank für die Erinnerung, ich komme am Dienstag um zehn Uhr gern vorbei."
        " Bitte schicken Sie mir noch die Adresse der Praxis und sagen Sie mir, ob ich die"
        " Versichertenkarte mitbringen muss. Viele Grüße",
    },
    "text-dlr": {"dlr_form": "text", "dlr_id_format": "hex"},
    "last-part-dlr": {"concat_dlr": "last-part"},
    "ids-restart": {"ids_restart": True},
}


def build_config(
    scenarios: tuple[str, ...] = ("happy",),
    toml_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> SimConfig:
    values: dict[str, Any] = {}
    file_values: dict[str, Any] = {}
    if toml_path is not None:
        with toml_path.open("rb") as handle:
            file_values = tomllib.load(handle)
        scenarios = tuple(file_values.pop("scenarios", ())) + tuple(scenarios)
    for name in scenarios:
        if name not in PRESETS:
            raise SimConfigError(f"unknown scenario {name!r}; one of: {', '.join(PRESETS)}")
        values.update(PRESETS[name])
    values.update(file_values)
    values.update(overrides or {})
    values["scenarios"] = tuple(dict.fromkeys(scenarios)) or ("happy",)
    return _coerce(values)


def _coerce(values: dict[str, Any]) -> SimConfig:
    fields = {field.name: field for field in dataclasses.fields(SimConfig)}
    for key in values:
        if key not in fields:
            raise SimConfigError(f"unknown option {key!r}")
    for key in ("response_delay", "dlr_delay", "mo_delay"):
        if key in values:
            low, high = (float(v) for v in values[key])
            if not 0 <= low <= high:
                raise SimConfigError(f"{key}: expected 0 <= min <= max")
            values[key] = (low, high)
    if "accounts" in values:
        values["accounts"] = tuple((str(a), str(b)) for a, b in values["accounts"])
    if "reject_prefixes" in values:
        values["reject_prefixes"] = tuple(str(p) for p in values["reject_prefixes"])
    if "record" in values:
        values["record"] = Path(values["record"])
    if "mo_parts" in values and not 1 <= int(values["mo_parts"]) <= 255:
        raise SimConfigError("mo_parts: between 1 and 255")
    keys = ("dlr_before_response", "queue_full", "undeliverable", "no_response", "mo_share",
            "mo_missing")  # fmt: skip
    for key in keys:
        if key in values and not 0.0 <= float(values[key]) <= 1.0:
            raise SimConfigError(f"{key}: a share between 0 and 1")
    return SimConfig(**values)
