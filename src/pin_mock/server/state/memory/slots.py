"""``MemorySlots``: fair slots over a memory queue's jobs (the ``Slots`` port).

A job needs one slot of its group (a webhook, say) and one of its client. A
job that finds either taken is parked on a list of that group or client, and
its handler ends; each release wakes one parked job of the group and one of
the client (put back on the queue), and ``sweep`` wakes what free slots allow.
The same rules as ``state/redis/slots.py``, counted in this process; there is
no lease to run out, since a slot is always released when its job ends.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from pin_mock.server.state.ports import Job, Leftovers

if TYPE_CHECKING:
    from pin_mock.server.state.memory.queue import MemoryQueue

Key = tuple[str, ...]


class MemorySlots:
    """Held slots and parked jobs, per (client, group) and per client."""

    def __init__(self, queue: MemoryQueue, *, group_slots: int, client_slots: int) -> None:
        self.queue = queue
        self.limits = (group_slots, client_slots)
        self._held: dict[Key, set[str]] = {}
        self._parked: dict[Key, deque[Job]] = {}

    async def acquire(self, client_id: str, group: str, token: str, job: Job) -> bool:
        keys = ((client_id, group), (client_id,))
        for key, limit in zip(keys, self.limits, strict=True):
            if len(self._held.get(key, ())) >= limit:
                self._parked.setdefault(key, deque()).append(job)
                return False
        for key in keys:
            self._held.setdefault(key, set()).add(token)
        return True

    async def release(self, client_id: str, group: str, token: str) -> None:
        for key in ((client_id, group), (client_id,)):
            held = self._held.get(key)
            if held is not None:
                held.discard(token)
                if not held:
                    del self._held[key]  # forget idle groups (removed webhooks)
            self._wake(key, 1)

    async def sweep(self) -> int:
        moved = 0
        for key in list(self._parked):
            limit = self.limits[0] if len(key) == 2 else self.limits[1]
            moved += self._wake(key, limit - len(self._held.get(key, ())))
        return moved

    def _wake(self, key: Key, free: int) -> int:
        """Put up to ``free`` jobs parked on ``key`` back on the queue (not once it stopped)."""
        parked = self._parked.get(key)
        woken = 0
        while parked and woken < free and not self.queue.closed:
            self.queue.put_nowait(parked.popleft())
            woken += 1
        if parked is not None and not parked:
            del self._parked[key]
        return woken

    async def parked(self) -> bool:
        return bool(self._parked)

    async def aclose(self) -> Leftovers:
        left = [job for parked in self._parked.values() for job in parked]
        self._parked.clear()
        return Leftovers(left)

    def cancel(self, client_id: str) -> None:
        """Forget the client's parked jobs (a sandbox reset)."""
        for key in [k for k in self._parked if k[0] == client_id]:
            del self._parked[key]
