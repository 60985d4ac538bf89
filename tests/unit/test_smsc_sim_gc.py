"""The simulator runs its full garbage collections in quiet moments, not in automatic pauses
that grew with the receipts it owed (100-300 ms stalls of every bind during a campaign)."""

from __future__ import annotations

import asyncio
import gc

from kontor.smsc_sim import quiet_full_collections


def full_passes() -> int:
    return int(gc.get_stats()[2]["collections"])


def test_full_collections_wait_for_a_quiet_moment_and_the_thresholds_come_back() -> None:
    before = gc.get_threshold()

    async def scenario() -> tuple[tuple[int, int, int], int, int]:
        loop = asyncio.get_running_loop()
        last = [loop.time()]
        task = asyncio.create_task(
            quiet_full_collections(lambda: last[0], check_every=0.01, quiet=0.05, at_most=60)
        )
        start = full_passes()
        for _ in range(15):  # submits keep coming: no full pass
            last[0] = loop.time()
            await asyncio.sleep(0.01)
        busy = full_passes() - start
        during = gc.get_threshold()
        await asyncio.sleep(0.2)  # quiet now
        quiet = full_passes() - start
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return during, busy, quiet

    during, busy, quiet = asyncio.run(scenario())
    assert during[:2] == before[:2]  # the young generations are collected as before
    assert during[2] >= 1_000_000_000  # no automatic full pass
    assert busy == 0
    assert quiet >= 1
    assert gc.get_threshold() == before


def test_under_constant_load_a_full_collection_still_comes() -> None:
    async def scenario() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(
            quiet_full_collections(loop.time, check_every=0.01, quiet=10, at_most=0.05)
        )
        start = full_passes()
        # Never quiet (quiet=10): every pass comes from at_most. A full pass over this test
        # run's heap can take longer than at_most on a loaded machine, so wait for two passes
        # (bounded) rather than a fixed time.
        deadline = loop.time() + 10
        while full_passes() - start < 2 and loop.time() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return full_passes() - start

    assert asyncio.run(scenario()) >= 2
