"""The state engine's background work: expiring idle sandboxes, closing connections.

A worker in ``Services.workers`` (started and stopped by the app's lifespan).
It is installed first, so it stops last: the other workers may still write
while they stop. In memory there is nothing to expire or close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pin_mock.server.state.engine import StateEngine, unavailable
from pin_mock.server.state.redis.tenants import RedisTenants

logger = logging.getLogger("pin_mock.state")


class StateWorker:
    """Sweeps idle tenants every ``interval`` seconds (Redis); closes the engine at the end."""

    def __init__(self, engine: StateEngine, tenants: object, ttl: int) -> None:
        self.engine = engine
        self.tenants = tenants if isinstance(tenants, RedisTenants) else None
        # Often enough that a sandbox outlives its TTL by a tenth at most (and a minute at most).
        self.interval = max(1.0, min(60.0, ttl / 10))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.tenants is not None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="state sweep")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.engine.aclose()

    async def _run(self) -> None:
        assert self.tenants is not None
        while True:
            await asyncio.sleep(self.interval)
            try:
                # Every worker sweeps; the script is atomic and leaves a tenant that
                # became active again, so two sweeping at once do no harm.
                dropped = await self.tenants.sweep()
            except Exception as exc:  # never let the sweep die with Redis away for a while
                if unavailable(exc) is None:
                    logger.exception("sandbox expiry failed")
                continue
            for client_id in dropped:
                logger.info("sandbox of %s expired after %s s idle", client_id, self.tenants.ttl)
