"""``MemoryHealth``: the health port in this process (always reachable and writable)."""

from __future__ import annotations

from pin_mock.server.state.memory.queue import MemoryQueue


class MemoryHealth:
    """The ``EngineHealth`` port of the memory engine."""

    def __init__(self, queues: dict[str, MemoryQueue]) -> None:
        self.queues = queues

    async def check(self) -> None:
        """Nothing can be lost: the state is this process's memory."""

    async def depths(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for name, queue in self.queues.items():
            queued, scheduled = queue.depth()
            out[(name, "queued")], out[(name, "scheduled")] = queued, scheduled
        return out
