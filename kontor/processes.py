"""The long-running workers ``kontor up`` starts, by name (``kontor worker NAME`` runs one)."""

from __future__ import annotations

WORKERS: tuple[str, ...] = ()
