"""Each client's clock in memory (the ``ClockStore`` port), kept on its ``Tenant``.

No method awaits, so every move is atomic within the event loop, and a reset
(which drops the tenant) puts the client back on the real clock. Jobs waiting
for a frozen clock are held by their queue (``MemoryQueue.hold``); a running
clock's are on the queue's timers, and ``wake`` takes both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pin_mock.server.state.clock_port import REAL, ClockState
from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.memory.tenant import Tenants


class MemoryClocks:
    """``ClockStore`` over the process's tenants; ``queues`` by kind."""

    def __init__(self, tenants: Tenants, queues: dict[str, MemoryQueue]) -> None:
        self._tenants = tenants
        self._queues = queues

    async def read(self, client_id: str) -> ClockState:
        tenant = self._tenants.peek(client_id)
        return REAL if tenant is None else tenant.clock

    def _set(self, client_id: str, **changes: Any) -> ClockState:
        tenant = self._tenants.get(client_id)
        tenant.clock = replace(tenant.clock, version=tenant.clock.version + 1, **changes)
        return tenant.clock

    async def freeze(self, client_id: str, at: float | None, real: float) -> ClockState:
        now = (await self.read(client_id)).now(real)
        return self._set(client_id, frozen_at=now if at is None else at)

    async def advance(self, client_id: str, seconds: float, real: float) -> ClockState:
        clock = await self.read(client_id)
        if clock.frozen_at is not None:
            return self._set(client_id, frozen_at=clock.frozen_at + seconds)
        return self._set(client_id, offset=clock.offset + seconds)

    async def resume(self, client_id: str, real: float) -> ClockState:
        clock = await self.read(client_id)
        if clock.frozen_at is None:
            return clock
        return self._set(client_id, offset=clock.frozen_at - real, frozen_at=None)

    async def later(
        self, kind: str, job: dict[str, Any], ident: str, delay: float | None, seen: int
    ) -> None:
        queue = self._queues[kind]
        if (await self.read(job["client_id"])).version != seen:
            queue.put_nowait(job)  # the clock moved since the job read it: look again now
        elif delay is None:
            queue.hold(job)
        else:
            queue.put_nowait(job, delay)

    async def dropped(self, client_id: str) -> None:
        """Nothing to tell: the reset dropped the tenant, clock and all."""

    async def wake(self, client_id: str) -> int:
        return sum(queue.wake(client_id) for queue in self._queues.values())

    def on_moves(self, heard: Callable[[str], None]) -> None:
        """Nothing to hear: every move is made in this process."""
