"""Loading destination rules (blocked countries, sender registration, delivery reports) from
TOML into ``domain.phone.destinations.DestinationRules``; the default is
``adapters/data/destinations.toml``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.pricelist import parse_toml, read_default
from domain.phone.destinations import DestinationRules
from domain.pricing.exceptions import InvalidPriceListError


def load_destination_rules(path: Path | None = None) -> DestinationRules:
    """The destination rules in ``path``, or the shipped default."""
    text = path.read_text(encoding="utf-8") if path else read_default("destinations.toml")
    return parse_destination_rules(parse_toml(text, path or "destinations.toml"))


def parse_destination_rules(document: Mapping[str, Any]) -> DestinationRules:
    def countries(key: str) -> frozenset[str]:
        value = document.get(key, [])
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            raise InvalidPriceListError(f"destinations: {key} must be a list of country codes")
        return frozenset(value)

    notes = document.get("notes", {})
    return DestinationRules(
        blocked=countries("blocked"),
        sender_registration_required=countries("sender_registration_required"),
        without_delivery_reports=countries("without_delivery_reports"),
        notes={str(k): str(v) for k, v in notes.items()},
    )
