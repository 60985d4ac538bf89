"""The simulator collects its oldest generation on a timer, not in automatic pauses that grew
with the receipts it owed (100-300 ms stalls of every bind during a campaign)."""

from __future__ import annotations

import asyncio
import gc

from kontor.smsc_sim import spaced_full_collections


def test_full_collections_run_on_the_timer_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()

    async def scenario() -> tuple[tuple[int, int, int], int]:
        full_passes = gc.get_stats()[2]["collections"]
        task = asyncio.create_task(spaced_full_collections(every=0.02))
        await asyncio.sleep(0.15)
        during = gc.get_threshold()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return during, gc.get_stats()[2]["collections"] - full_passes

    during, passes = asyncio.run(scenario())
    assert during[:2] == before[:2]  # the young generations are collected as before
    assert during[2] >= 1_000_000_000  # no automatic full pass
    assert passes >= 3  # the timer's
    assert gc.get_threshold() == before
