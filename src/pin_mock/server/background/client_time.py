"""Jobs that fall due on their client's clock (a report's steps, webhook retries).

A job that starts before its due time on the client's clock (``domain/clocks.py``)
does nothing yet: ``due`` schedules it again, ``due - now`` real seconds ahead on
a running clock, or holds it until the clock moves on a frozen one
(``ClockStore.later``). A move of the clock wakes the client's jobs, and each
checks again, so no job sleeps through an advance and none runs early.

``wait`` is for a job that keeps its place (a report holding its slot): on a
running clock it sleeps until the due time (cut short by a move of the clock in
this process), and only a frozen clock makes it give its place up and be held.
"""

from __future__ import annotations

from pin_mock.server.domain.clocks import ClientClocks
from pin_mock.server.state.ports import Job


class ClientTime:
    """Due times on the client's clock, for the jobs of the queue ``kind``."""

    def __init__(self, clocks: ClientClocks, kind: str) -> None:
        self.clocks = clocks
        self.kind = kind

    async def enter(self, job: Job) -> None:
        """Make the job's client's clock the one this job runs on."""
        await self.clocks.enter(job["client_id"])

    async def due(self, job: Job, at: float, ident: str) -> bool:
        """True if ``at`` has come on the client's clock; else the job waits for it."""
        now = self.clocks.now()
        if now >= at:
            return True
        state = self.clocks.entered()
        delay = None if state.frozen else at - now
        await self.clocks.store.later(self.kind, {**job, "due": at}, ident, delay, state.version)
        return False

    async def wait(self, job: Job, at: float, ident: str) -> bool:
        """True once ``at`` has come (sleeping on a running clock); False if the clock
        is frozen before it: the job is held until the clock moves."""
        while True:
            now = self.clocks.now()
            if now >= at:
                return True
            state = self.clocks.entered()
            if state.frozen:
                job = {**job, "due": at}
                await self.clocks.store.later(self.kind, job, ident, None, state.version)
                return False
            await self.clocks.sleep(job["client_id"], at - now)
            await self.enter(job)  # the clock may have moved on another worker too
