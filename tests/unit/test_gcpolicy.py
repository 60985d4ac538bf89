"""Long-running processes freeze what they built at start and collect young objects less often."""

from __future__ import annotations

import gc

from adapters.gcpolicy import OLDER, YOUNG, settle


def test_settling_freezes_what_exists_and_raises_the_young_threshold() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    try:
        kept = [object() for _ in range(10)]
        settle()
        assert gc.get_threshold() == (YOUNG, OLDER, OLDER)
        assert gc.get_freeze_count() > frozen_before
        assert YOUNG > 700  # CPython's default for the youngest generation
        del kept
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
