"""Idle sandboxes expire (``--sandbox-ttl``), and the state engine closes last.

A worker of the app's lifespan, started first so it stops last: the other
workers may still write while they stop. It asks the engine's tenants to drop
the sandboxes idle for longer than the TTL (``TenantState.expire_idle``: on
Redis, where sandboxes outlive processes; in memory none) and, at the end,
closes the engine's connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from pin_mock.server.state.outages import unavailable
from pin_mock.server.state.ports import StateEngine

logger = logging.getLogger("pin_mock.state")


class SandboxExpiry:
    """Expires idle sandboxes every ``interval`` seconds; closes the engine at the end."""

    def __init__(self, engine: StateEngine, ttl: int) -> None:
        self.engine = engine
        self.ttl = ttl
        # Often enough that a sandbox outlives its TTL by a tenth at most (and a minute at most).
        self.interval = max(1.0, min(60.0, ttl / 10))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sandbox expiry")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.engine.aclose()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                # Every worker sweeps; the script is atomic and leaves a tenant that
                # became active again, so two sweeping at once do no harm.
                dropped = await self.engine.tenants.expire_idle()
            except Exception as exc:  # never let the sweep die with Redis away for a while
                if unavailable(exc) is None:
                    logger.exception("sandbox expiry failed")
                continue
            for client_id in dropped:
                logger.info("sandbox of %s expired after %s s idle", client_id, self.ttl)
