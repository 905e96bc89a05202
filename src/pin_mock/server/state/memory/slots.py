"""``MemorySlots``: fair slots over a memory queue's jobs (the ``Slots`` port).

A job needs one slot of its group (a webhook, say) and one of its client. A
job whose group is full (counting the group's jobs that wait for a slot of the
client) is parked on the group's list; one whose client is full is parked on
the client's list and keeps its place in its group meanwhile, so a group has
at most ``group_slots`` jobs held or waiting for the client, and a job of a
quiet group waits behind a few jobs of each busy group, never behind all of
them. Each release wakes one parked job of the client and then one of the
group (put back on the queue, in that order: the client's longest waiter takes
the freed slot), and ``sweep`` wakes what free slots allow. The same
rules as ``state/redis/slots.py``, counted in this process; there is no lease
to run out, since a slot is always released when its job ends.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from pin_mock.server.state.ports import Job, Leftovers

if TYPE_CHECKING:
    from pin_mock.server.state.memory.queue import MemoryQueue

Key = tuple[str, ...]  # (client, group) or (client,)


class MemorySlots:
    """Held slots and parked jobs, per (client, group) and per client."""

    def __init__(self, queue: MemoryQueue, *, group_slots: int, client_slots: int) -> None:
        self.queue = queue
        self.group_slots, self.client_slots = group_slots, client_slots
        self._held: dict[Key, set[str]] = {}
        #: Parked jobs; a client's list holds ``(group, job)``.
        self._parked: dict[Key, deque] = {}
        #: (client, group) -> how many of its jobs wait on the client's list.
        self._waiting: dict[Key, int] = {}

    def _admitted(self, group: Key) -> int:
        return len(self._held.get(group, ())) + self._waiting.get(group, 0)

    async def acquire(self, client_id: str, group: str, token: str, job: Job) -> bool:
        group_key, client_key = (client_id, group), (client_id,)
        if self._admitted(group_key) >= self.group_slots:
            self._parked.setdefault(group_key, deque()).append(job)
            return False
        if len(self._held.get(client_key, ())) >= self.client_slots:
            self._parked.setdefault(client_key, deque()).append((group, job))
            self._waiting[group_key] = self._waiting.get(group_key, 0) + 1
            return False
        for key in (group_key, client_key):
            self._held.setdefault(key, set()).add(token)
        return True

    async def release(self, client_id: str, group: str, token: str) -> None:
        # The client's longest waiter is woken first, so it takes the client's freed slot
        # before the group's waiter (a newcomer to the client's line) can.
        for key in ((client_id,), (client_id, group)):
            held = self._held.get(key)
            if held is not None:
                held.discard(token)
                if not held:
                    del self._held[key]  # forget idle groups (removed webhooks)
        for key in ((client_id,), (client_id, group)):
            self._wake(key, 1)

    async def sweep(self) -> int:
        moved = 0
        for key in list(self._parked):
            if len(key) == 2:
                free = self.group_slots - self._admitted(key)
            else:
                free = self.client_slots - len(self._held.get(key, ()))
            moved += self._wake(key, free)
        return moved

    def _wake(self, key: Key, free: int) -> int:
        """Put up to ``free`` jobs parked on ``key`` back on the queue (not once it stopped)."""
        parked = self._parked.get(key)
        woken = 0
        while parked and woken < free and not self.queue.closed:
            job = parked.popleft()
            if len(key) == 1:  # a client's list: the job leaves its group's waiting count
                group, job = job
                self._unwait((key[0], group))
            self.queue.put_nowait(job)
            woken += 1
        if parked is not None and not parked:
            del self._parked[key]
        return woken

    def _unwait(self, group: Key) -> None:
        left = self._waiting.get(group, 0) - 1
        if left > 0:
            self._waiting[group] = left
        else:
            self._waiting.pop(group, None)

    async def parked(self) -> bool:
        return bool(self._parked)

    async def aclose(self) -> Leftovers:
        left = []
        for key, parked in self._parked.items():
            left += [entry[1] if len(key) == 1 else entry for entry in parked]
        self._parked.clear()
        self._waiting.clear()
        return Leftovers(left)

    def cancel(self, client_id: str) -> None:
        """Forget the client's parked jobs (a sandbox reset)."""
        for key in [k for k in self._parked if k[0] == client_id]:
            del self._parked[key]
        for key in [k for k in self._waiting if k[0] == client_id]:
            del self._waiting[key]
