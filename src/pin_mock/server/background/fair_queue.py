"""A job queue with its fair slots, as both background workers run it.

The queue (``JobQueue``) runs a handler for each job; its ``Slots`` keep one
client (or one webhook) from holding every worker; a sweep every
``SWEEP_EVERY`` seconds wakes the parked jobs that free slots allow (on Redis,
slots whose lease ran out). ``stop`` gives back what nobody else will run.
"""

from __future__ import annotations

import asyncio
import contextlib

from pin_mock.server.state.ports import Handler, JobQueue, Leftovers

#: Seconds between two sweeps of the parked jobs.
SWEEP_EVERY = 1.0


class FairQueue:
    """``queue`` and fair slots over it: ``group_slots`` per group, ``client_slots`` per client."""

    def __init__(
        self, queue: JobQueue, *, lease: float, group_slots: int, client_slots: int
    ) -> None:
        self.queue = queue
        self.slots = queue.fair_slots(
            lease=lease, group_slots=group_slots, client_slots=client_slots
        )
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, handler: Handler, *, concurrency: int, name: str) -> None:
        await self.queue.start(handler, concurrency=concurrency)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name=name)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            with contextlib.suppress(Exception):  # Redis away: the queue's loops say so
                await self.slots.sweep()

    async def stop(self, grace: float = 0.0) -> Leftovers:
        """Stop; jobs under way get ``grace`` seconds. What nobody else will run, queued
        or parked, and how many jobs under way were handed back to other workers."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        closed = await self.queue.aclose(grace)
        parked = await self.slots.aclose()
        return Leftovers(closed.abandoned + parked.abandoned, closed.handed_back)

    async def drain(self) -> None:
        """Wait until no job is queued, scheduled, parked or running (for tests and tools)."""
        while True:
            await self.queue.drain()
            if not await self.slots.parked():
                return
            await asyncio.sleep(0.05)
