"""``MemoryQueue``: the job queue of the memory engine, in this process.

Jobs wait in a first-in, first-out list and run as tasks, at most
``concurrency`` at once; a job put with a delay waits on a timer of the event
loop first (a webhook retry). Nothing survives the process: on shutdown
(``aclose``) the jobs still queued, scheduled or running past the grace are
*abandoned* and handed to the owner, who says what became of them (reports
fail with ``SANDBOX_SHUTDOWN``, deliveries are logged ``not_delivered``).

The engine's other parts use the synchronous ``put_nowait`` so that a write
and the job it queues happen with no ``await`` between them (all or nothing);
``cancel`` drops a client's queued and scheduled jobs (a sandbox reset). Once
``aclose`` has begun the queue is ``closed``: a job put by a job still under
way (a retry) joins what is handed back; after that, ``put_nowait`` refuses
(``QueueClosed``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from pin_mock.server.state.memory.slots import MemorySlots
from pin_mock.server.state.ports import Handler, Job, Leftovers, QueueClosed
from pin_mock.server.state.stopping import cancel_until_stopped

logger = logging.getLogger("pin_mock.queues")


class MemoryQueue:
    """A queue of one kind of job (``reports``, ``deliveries``) in this process."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handler: Handler | None = None
        self._concurrency = 1
        self._ready: deque[Job] = deque()
        self._scheduled: dict[asyncio.TimerHandle, Job] = {}
        # Jobs waiting for their client's frozen clock to move (not work to drain).
        self._held: dict[str, list[Job]] = {}
        self._running: dict[asyncio.Task[None], Job] = {}
        self._slots: list[MemorySlots] = []
        self._closed = False  # aclose has begun
        self._late: list[Job] | None = None  # put while closing: handed back too
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- putting ---------------------------------------------------------------

    async def put(self, job: Job, delay: float = 0.0) -> None:
        self.put_nowait(job, delay)

    def put_nowait(self, job: Job, delay: float = 0.0) -> None:
        """Queue ``job`` (after ``delay`` seconds); ``QueueClosed`` once stopped."""
        if self._closed:
            if self._late is None:
                raise QueueClosed(self.name)
            self._late.append(job)
            return
        self._idle.clear()
        if delay > 0:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(delay, lambda: self._due(handle))
            self._scheduled[handle] = job
            return
        self._ready.append(job)
        self._pump()

    def _due(self, handle: asyncio.TimerHandle) -> None:
        job = self._scheduled.pop(handle, None)
        if job is not None and not self._closed:
            self._ready.append(job)
            self._pump()

    def hold(self, job: Job) -> None:
        """Keep ``job`` until its client's clock moves (``wake``)."""
        if self._closed:
            self.put_nowait(job)  # handed back with the rest
            return
        self._held.setdefault(job["client_id"], []).append(job)

    def wake(self, client_id: str) -> int:
        """Queue the client's held and scheduled jobs now, by their due time (``job["due"]``)."""
        if self._closed:
            return 0
        woken = self._held.pop(client_id, [])
        for handle, job in list(self._scheduled.items()):
            if job["client_id"] == client_id:
                handle.cancel()
                del self._scheduled[handle]
                woken.append(job)
        woken.sort(key=lambda job: float(job.get("due") or 0.0))
        for job in woken:
            self.put_nowait(job)
        return len(woken)

    # -- running ---------------------------------------------------------------

    async def start(self, handler: Handler, *, concurrency: int) -> None:
        self._handler, self._concurrency, self._closed = handler, concurrency, False
        self._pump()

    def _pump(self) -> None:
        if self._handler is None:
            return  # not started yet: jobs wait
        while self._ready and len(self._running) < self._concurrency:
            job = self._ready.popleft()
            task = asyncio.get_running_loop().create_task(self._run(job), name=f"{self.name} job")
            self._running[task] = job
            task.add_done_callback(self._done)
        self._check_idle()

    async def _run(self, job: Job) -> None:
        assert self._handler is not None
        try:
            await self._handler(job)
        except Exception:  # a bug must not stop the queue
            logger.exception("queue %s: a job of %s crashed", self.name, job.get("client_id"))

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        if not self._closed:
            self._pump()
        self._check_idle()

    def _check_idle(self) -> None:
        if not (self._ready or self._scheduled or self._running):
            self._idle.set()

    # -- stopping --------------------------------------------------------------

    async def aclose(self, grace: float = 0.0) -> Leftovers:
        self._closed, self._late = True, []
        for handle in self._scheduled:
            handle.cancel()
        left = [*self._ready, *self._scheduled.values()]
        left += [job for jobs in self._held.values() for job in jobs]
        self._ready.clear()
        self._scheduled.clear()
        self._held.clear()
        running = dict(self._running)
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        await cancel_until_stopped(running)  # (stopping.py: once may not do)
        left += [running[task] for task in running if task.cancelled()]
        left += self._late
        self._late = None
        self._check_idle()
        return Leftovers(left)

    async def drain(self) -> None:
        await self._idle.wait()

    def depth(self) -> tuple[int, int]:
        """(jobs waiting or running, jobs scheduled for later): for ``/metrics``."""
        return len(self._ready) + len(self._running), len(self._scheduled)

    def cancel(self, client_id: str) -> None:
        """Drop the client's queued, scheduled and parked jobs (jobs under way run on)."""
        self._ready = deque(job for job in self._ready if job["client_id"] != client_id)
        for handle, job in list(self._scheduled.items()):
            if job["client_id"] == client_id:
                handle.cancel()
                del self._scheduled[handle]
        self._held.pop(client_id, None)
        for slots in self._slots:
            slots.cancel(client_id)
        self._check_idle()

    def fair_slots(self, *, lease: float, group_slots: int, client_slots: int) -> MemorySlots:
        # No lease in memory: a slot is released when its job ends, and a process
        # that dies takes its slots (and everything else) with it.
        slots = MemorySlots(self, group_slots=group_slots, client_slots=client_slots)
        self._slots.append(slots)
        return slots
