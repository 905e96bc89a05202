"""Work queues: a job is run once, by whichever worker takes it.

Report generation and webhook deliveries are jobs: a small JSON payload and a
handler that runs it and answers ``None`` (done) or ``(seconds, payload)`` (run
this again that much later: a webhook retry). Two implementations, one shape:

- ``MemoryQueue`` (``memory://``): a task per job in this process, as before.
  Not durable: on shutdown the unfinished jobs are handed back to the owner
  (reports then fail with ``SANDBOX_SHUTDOWN``).
- ``RedisQueue`` (``redis://``, ``redis_queue.py``): a Redis Stream per kind of
  job with one consumer group shared by every worker and replica; a dead
  worker's job is taken over after the claim timeout, retries wait in a sorted
  set by due time, so their schedule survives restarts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from pin_mock.server.state.redis.queue import GROUP, RedisQueue, encode_job

if TYPE_CHECKING:
    from pin_mock.server.state.engine import StateEngine

__all__ = ["GROUP", "JobQueue", "MemoryQueue", "RedisQueue", "encode_job", "open_queue"]

Payload = dict[str, Any]
#: A handler's answer: ``None`` when the job is done, else ``(seconds, payload)`` to run later.
Retry = tuple[float, Payload] | None
Handler = Callable[[Payload], Awaitable[Retry]]


class JobQueue(Protocol):
    """What the report jobs and the webhook dispatcher need from a queue."""

    #: True when a job outlives this process (a worker's shutdown hands it to another).
    durable: bool

    async def start(self) -> None: ...

    async def put(self, payload: Payload, delay: float = 0.0) -> None: ...

    async def aclose(self, grace: float = 0.0) -> list[Payload]:
        """Stop (jobs under way get ``grace`` seconds); the payloads of the jobs left unfinished that nobody else will run."""
        ...

    async def drain(self) -> None:
        """Wait until no job is queued, scheduled or running (for tests and tools)."""
        ...


class MemoryQueue:
    """A task per job, in this process (the ``memory://`` engine)."""

    durable = False

    def __init__(self, handler: Handler, name: str) -> None:
        self.handler = handler
        self.name = name
        self._tasks: dict[asyncio.Task[None], Payload] = {}

    async def start(self) -> None:
        """Nothing to set up: a job starts when it is put."""

    async def put(self, payload: Payload, delay: float = 0.0) -> None:
        task = asyncio.get_running_loop().create_task(
            self._run(payload, delay), name=f"{self.name} job"
        )
        self._tasks[task] = payload
        task.add_done_callback(lambda done: self._tasks.pop(done, None))

    async def _run(self, payload: Payload, delay: float) -> None:
        task = asyncio.current_task()
        while True:
            if delay > 0:
                await asyncio.sleep(delay)
            retry = await self.handler(payload)
            if retry is None:
                return
            delay, payload = retry
            if task is not None:
                self._tasks[task] = payload  # what a shutdown hands back is the latest run

    async def aclose(self, grace: float = 0.0) -> list[Payload]:
        jobs = dict(self._tasks)
        for task in jobs:
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        return [jobs[task] for task in jobs if task.cancelled()]

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def running(self) -> int:
        return len(self._tasks)


def open_queue(
    engine: StateEngine | None,
    kind: str,
    handler: Handler,
    *,
    claim_timeout: float,
    concurrency: int,
) -> MemoryQueue | RedisQueue:
    """The queue of ``kind`` (``reports``, ``deliveries``) on ``engine``: ``pin:q:<kind>``."""
    if engine is None or engine.redis is None:
        return MemoryQueue(handler, kind)
    return RedisQueue(
        engine.redis,
        engine.key("q", kind),
        handler,
        claim_timeout=claim_timeout,
        concurrency=concurrency,
    )
