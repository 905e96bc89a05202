"""Jobs that fall due on their client's clock (a report's steps, webhook retries).

A job that starts before its due time on the client's clock (``domain/clocks.py``)
does nothing yet: ``due`` schedules it again, ``due - now`` real seconds ahead on
a running clock, or holds it until the clock moves on a frozen one
(``ClockStore.later``). A move of the clock wakes the client's jobs, and each
checks again, so no job sleeps through an advance and none runs early.
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
