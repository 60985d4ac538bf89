"""Tariffs: the quality classes a customer sends in, each with its own prices and route."""

from __future__ import annotations

import enum


class Tariff(enum.StrEnum):
    ECONOMY = "economy"
    QUALITY = "quality"
    HIGH_QUALITY = "high-quality"


DEFAULT_TARIFF = Tariff.QUALITY
