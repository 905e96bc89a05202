"""``ClientClocks.sleep``: a job's wait on its client's clock, woken early by a move."""

from __future__ import annotations

import asyncio

from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.state.engine import open_state


def test_a_sleep_cancelled_as_a_move_wakes_it_ends_cancelled() -> None:
    # A shutdown cancels a report job's sleep; a clock move in the same pass of the
    # event loop must not swallow that cancel (with asyncio.wait_for on Python 3.11 it
    # did: the job slept on, and the shutdown waited 20 s for it).
    async def main() -> tuple[bool, bool]:
        state = open_state("memory://")
        try:
            clocks = ClientClocks(state.clocks)
            sleeper = asyncio.get_running_loop().create_task(clocks.sleep("a", 30.0))
            await asyncio.sleep(0)  # asleep on the move event
            clocks._heard("a")  # a move announced (by this worker or another) ...
            sleeper.cancel()  # ... just as the shutdown cancels the job
            done, _ = await asyncio.wait([sleeper], timeout=5.0)
            return sleeper in done, sleeper.cancelled()
        finally:
            await state.aclose()

    finished, cancelled = asyncio.run(main())
    assert finished and cancelled


def test_a_move_wakes_a_sleeper_early_and_time_ends_one_otherwise() -> None:
    async def main() -> tuple[float, float]:
        state = open_state("memory://")
        try:
            clocks = ClientClocks(state.clocks)
            loop = asyncio.get_running_loop()
            start = loop.time()
            sleeper = loop.create_task(clocks.sleep("a", 30.0))
            await asyncio.sleep(0)
            await clocks.advance("a", 60.0)  # the client's clock moved: wake now
            await asyncio.wait_for(sleeper, 5.0)
            woken = loop.time() - start
            start = loop.time()
            await clocks.sleep("b", 0.05)  # nobody moves b's clock: the time runs out
            return woken, loop.time() - start
        finally:
            await state.aclose()

    woken, slept = asyncio.run(main())
    assert woken < 5.0 and slept >= 0.05
