"""``RedisQueue``: a work queue on a Redis Stream, shared by every worker and replica.

One stream per kind of job (``pin:q:reports``, ``pin:q:deliveries``) with one
consumer group, so each entry is handed to exactly one consumer (``XREADGROUP``;
a consumer is ``host:pid:random``). A job stays pending until its handler ends
and the entry is acknowledged and deleted; a worker that dies holding one stops
renewing it (a heartbeat ``XCLAIM ... JUSTID`` every quarter of the claim
timeout), and after ``claim_timeout`` seconds idle any other worker takes it
over (``XAUTOCLAIM``). Retries wait in a sorted set (``<stream>:retry``) scored
by their due time and are moved to the stream when due, atomically, so their
schedule survives restarts. On a graceful shutdown the jobs under way are put
back on the stream at once, so another worker starts them without waiting.

Delivery is at least once (a worker frozen past the claim timeout, or lost
between its work and its acknowledgement, may see its job run again), so each
handler guards its own effects with a compare-and-set in Redis: a report is
completed once, a webhook attempt is logged once (``reports.py``,
``webhooks.py``; a retry is scheduled by the same script that logs its attempt). A Redis outage never kills a loop: it logs one
WARNING line and retries until Redis is back; a job it interrupts stays pending
and runs again once Redis is back.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from pin_mock.server.state.outages import unavailable
from pin_mock.server.state.ports import Handler, Job, Leftovers
from pin_mock.server.state.redis.keyspace import encode_job
from pin_mock.server.state.redis.slots import RedisSlots
from pin_mock.server.state.stopping import cancel_until_stopped

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("pin_mock.queues")

GROUP = "workers"
#: Seconds between two looks at the retry set (the granularity of a retry's due time).
POLL = 0.05
#: Seconds a loop waits after a Redis error before trying again.
BACKOFF = 0.5

# Move the due retries (at most 100 a call) from the sorted set to the stream, atomically,
# so a retry is never both scheduled and queued, nor lost between the two.
_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'job', member)
  redis.call('ZREM', KEYS[1], member)
end
return #due
"""
# Settle a handled entry: acknowledge and delete it.
_SETTLE = """
redis.call('XACK', KEYS[1], KEYS[2], ARGV[1])
redis.call('XDEL', KEYS[1], ARGV[1])
return 1
"""
# Give an interrupted entry back: a fresh copy at the end of the stream, the old one acknowledged.
_REQUEUE = """
if redis.call('XACK', KEYS[1], KEYS[2], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[1])
end
return 1
"""


class RedisQueue:
    """A Redis Stream with one consumer group, shared by every worker and replica."""

    durable = True

    def __init__(
        self,
        redis: Redis,
        key: str,
        *,
        claim_timeout: float,
        slots_key: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.stream = key
        self.retries = f"{key}:retry"
        self.slots_key = slots_key or f"{key}:slots"
        self.handler: Handler | None = None
        self.claim_timeout = claim_timeout
        self.concurrency = 1
        #: Due times of retries are on the real clock (the mover compares them with it).
        self.clock = clock
        # Unique per queue object: one process may run several sandboxes (tests do).
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self._running: dict[bytes, asyncio.Task[None]] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._room = asyncio.Event()
        self._cursor: bytes | str = "0-0"
        self._next_tidy = 0.0
        self._closed = False
        self._outage = False
        self._move = redis.register_script(_MOVE_DUE)
        self._settle = redis.register_script(_SETTLE)
        self._requeue = redis.register_script(_REQUEUE)

    # -- lifecycle -------------------------------------------------------------

    async def start(self, handler: Handler, *, concurrency: int) -> None:
        self.handler, self.concurrency = handler, concurrency
        self._closed = False
        self._room = asyncio.Event()
        self._room.set()
        await self._ensure_group()
        loop = asyncio.get_running_loop()
        for name, body in (("read", self._read), ("claim", self._claim), ("move", self._mover)):
            self._loops.append(loop.create_task(self._forever(body), name=f"{self.stream} {name}"))

    async def aclose(self, grace: float = 0.0) -> Leftovers:
        """Stop taking jobs; give those under way ``grace`` seconds, then hand them back."""
        self._closed = True
        for loop in self._loops:
            loop.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        self._loops.clear()
        running = dict(self._running)
        if running and grace > 0:
            await asyncio.wait(running.values(), timeout=grace)
        await cancel_until_stopped(running.values())  # (stopping.py: once may not do)
        handed_back = 0
        for entry_id, task in running.items():
            job = getattr(task, "job", None)
            if not task.cancelled() or job is None:
                continue
            try:
                await self._requeue(keys=[self.stream, GROUP], args=[entry_id, encode_job(job)])
                handed_back += 1
            except Exception:  # Redis gone: the entry stays pending; XAUTOCLAIM finds it
                logger.warning("queue %s: could not hand back a job at shutdown", self.stream)
        return Leftovers(handed_back=handed_back)

    async def drain(self) -> None:
        while True:
            if not self._running:
                queued = await self.redis.xlen(self.stream)
                scheduled = await self.redis.zcard(self.retries)
                if not queued and not scheduled and not self._running:
                    return
            await asyncio.sleep(0.01)

    def fair_slots(self, *, lease: float, group_slots: int, client_slots: int) -> RedisSlots:
        return RedisSlots(
            self.redis,
            self.slots_key,
            self.stream,
            lease,
            group_slots=group_slots,
            client_slots=client_slots,
        )

    # -- putting ---------------------------------------------------------------

    async def put(self, job: Job, delay: float = 0.0) -> None:
        if delay > 0:
            await self.redis.zadd(self.retries, {self.run_later(job): self.clock() + delay})
        else:
            await self.redis.xadd(self.stream, {"job": encode_job(job)})

    @staticmethod
    def run_later(job: Job) -> str:
        """``job`` as a member of the retry set (each scheduled run a distinct member)."""
        return encode_job({**job, "_run": secrets.token_hex(6)})

    # -- the loops -------------------------------------------------------------

    async def _forever(self, body: Callable[[], Awaitable[None]]) -> None:
        while not self._closed:
            try:
                await body()
                if self._outage:
                    self._outage = False
                    logger.warning("queue %s: Redis is back", self.stream)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not self._outage:
                    self._outage = True
                    logger.warning("queue %s: Redis unavailable (%s); retrying", self.stream, exc)
                if "NOGROUP" in str(exc):
                    await self._ensure_group()  # the stream was deleted (a flushed database)
                await asyncio.sleep(BACKOFF)

    async def _ensure_group(self) -> None:
        from redis.exceptions import ResponseError

        try:
            await self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self) -> None:
        await self._room.wait()
        free = self.concurrency - len(self._running)
        if free <= 0:
            self._room.clear()
            return
        answer = await self.redis.xreadgroup(
            GROUP, self.consumer, {self.stream: ">"}, count=free, block=1000
        )
        for _stream, entries in answer or []:
            for entry_id, fields in entries:
                self._spawn(entry_id, fields)

    async def _claim(self) -> None:
        await asyncio.sleep(max(self.claim_timeout / 4, 0.02))
        if self._running:
            # The heartbeat: reset the idle time of what this worker holds, so nobody takes it.
            await self.redis.xclaim(
                self.stream, GROUP, self.consumer, 0, list(self._running), justid=True
            )
        free = self.concurrency - len(self._running)
        if free <= 0:
            return
        # A cursor, so entries held by live workers at the head do not hide idle ones behind.
        self._cursor, entries, _deleted = await self.redis.xautoclaim(
            self.stream,
            GROUP,
            self.consumer,
            int(self.claim_timeout * 1000),
            self._cursor,
            count=free,
        )
        for entry_id, fields in entries:
            if fields and entry_id not in self._running:
                logger.info("queue %s: took over %s", self.stream, entry_id.decode())
                self._spawn(entry_id, fields)
        if self.clock() >= self._next_tidy:
            await self._tidy()

    async def _tidy(self) -> None:
        """Forget consumers gone for good (each restart adds one), so the group stays small."""
        gone = max(600.0, 10 * self.claim_timeout)
        self._next_tidy = self.clock() + gone / 2
        for consumer in await self.redis.xinfo_consumers(self.stream, GROUP):
            name = consumer["name"].decode()
            if name != self.consumer and not consumer["pending"] and consumer["idle"] > gone * 1000:
                await self.redis.xgroup_delconsumer(self.stream, GROUP, name)

    async def _mover(self) -> None:
        await asyncio.sleep(POLL)
        await self._move(keys=[self.retries, self.stream], args=[self.clock()])

    # -- one job ---------------------------------------------------------------

    def _spawn(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        try:
            job = json.loads(fields[b"job"])
        except (KeyError, ValueError):
            logger.error("queue %s: dropped a malformed entry %s", self.stream, entry_id)
            job = None
        job = job if isinstance(job, dict) else None
        task = asyncio.get_running_loop().create_task(self._run(entry_id, job))
        task.job = job  # type: ignore[attr-defined]  # what a shutdown hands back
        self._running[entry_id] = task
        task.add_done_callback(lambda _: self._done(entry_id))

    def _done(self, entry_id: bytes) -> None:
        self._running.pop(entry_id, None)
        self._room.set()

    async def _run(self, entry_id: bytes, job: Job | None) -> None:
        if job is not None and self.handler is not None:
            job.pop("_run", None)
            try:
                await self.handler(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if unavailable(exc) is not None:
                    # Redis lost mid-job: leave it pending; once Redis is back, a worker
                    # takes it over after the claim timeout and runs it again.
                    logger.warning("queue %s: job %s interrupted: %s", self.stream, entry_id, exc)
                    return
                # A bug must not leave the job to be taken over for ever.
                logger.exception("queue %s: job %s crashed", self.stream, entry_id.decode())
        for _ in range(20):
            try:
                await self._settle(keys=[self.stream, GROUP], args=[entry_id])
                return
            except Exception:  # Redis briefly gone: the job is done, only the ack is late
                await asyncio.sleep(BACKOFF)
        logger.warning("queue %s: could not settle %s; it will run again", self.stream, entry_id)
