"""The fate of each submit_sm: refused at the door, or accepted with which effects.

``screen`` decides refusals that leave no trace in the record (throttling, queue full, a
rejected destination); ``fate`` draws the effects of an accepted submit. Every draw comes from
one ``random.Random`` seeded with the configured seed and the record's position, always in the
same order, so the same seed and traffic give the same run, also after a restart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from adapters.smpp.constants import CommandStatus
from adapters.smsc.config import SimConfig


@dataclass(frozen=True, slots=True)
class Fate:
    no_response: bool = False
    dlr_before_response: bool = False
    undeliverable: bool = False
    disconnect: bool = False
    dlr_delay: float = 0.0
    response_delay: float = 0.0
    mo_delay: float | None = None
    mo_missing_part: int | None = None
    """The part of a concatenated reply that is never sent."""

    @property
    def effects(self) -> str:
        names = (
            ("no_response", self.no_response),
            ("dlr_before_response", self.dlr_before_response),
            ("undeliverable", self.undeliverable),
            ("disconnect", self.disconnect),
            ("mo_reply", self.mo_delay is not None),
        )
        return ",".join(name for name, applies in names if applies)


class Scenario:
    def __init__(self, config: SimConfig, position: int = 0) -> None:
        self.config = config
        self._rng = random.Random(f"{config.seed}:{position}")  # noqa: S311 - simulation
        self._buckets: dict[str, tuple[float, float]] = {}
        self._accepted = 0

    def screen(self, system_id: str, destination: str, now: float) -> int:
        """A command_status refusing the submit, or 0 to accept it."""
        cfg = self.config
        if cfg.throttle_tps > 0 and not self._take_token(system_id, now):
            return CommandStatus.ESME_RTHROTTLED
        if cfg.queue_full and self._rng.random() < cfg.queue_full:
            return CommandStatus.ESME_RMSGQFUL
        if not destination:
            return CommandStatus.ESME_RINVDSTADR
        if cfg.reject_prefixes and destination.startswith(cfg.reject_prefixes):
            return cfg.reject_status
        return 0

    def fate(self) -> Fate:
        cfg = self.config
        rng = self._rng
        self._accepted += 1
        draws = [rng.random() for _ in range(4)]
        dlr_delay = rng.uniform(*cfg.dlr_delay)
        response_delay = rng.uniform(*cfg.response_delay) if cfg.response_delay[1] else 0.0
        missing = None
        if draws[3] < cfg.mo_share and cfg.mo_parts > 1 and cfg.mo_missing:
            # drawn only then, so the other scenarios' draws stay what they were
            missing = rng.randint(1, cfg.mo_parts) if rng.random() < cfg.mo_missing else None
        return Fate(
            no_response=draws[0] < cfg.no_response,
            dlr_before_response=draws[1] < cfg.dlr_before_response,
            undeliverable=draws[2] < cfg.undeliverable,
            disconnect=bool(cfg.disconnect_every) and self._accepted % cfg.disconnect_every == 0,
            dlr_delay=dlr_delay,
            response_delay=response_delay,
            mo_delay=rng.uniform(*cfg.mo_delay) if draws[3] < cfg.mo_share else None,
            mo_missing_part=missing,
        )

    def _take_token(self, system_id: str, now: float) -> bool:
        # A token bucket holding one second's worth: a client's window-sized burst below the
        # rate passes, a sustained pace above it is refused.
        rate = self.config.throttle_tps
        tokens, last = self._buckets.get(system_id, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate)
        if tokens < 1.0:
            self._buckets[system_id] = (tokens, now)
            return False
        self._buckets[system_id] = (tokens - 1.0, now)
        return True
