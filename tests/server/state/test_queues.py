"""Work queues: on Redis each job runs once across consumers, a dead consumer's job is
taken over, retries keep their schedule across a restart, an interrupted job is handed
back at shutdown; in memory, unfinished jobs are handed to the owner at shutdown."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from pin_mock.server.state.memory.queue import MemoryQueue
from pin_mock.server.state.ports import Job
from pin_mock.server.state.redis.queue import GROUP, RedisQueue
from redis_db import fresh_db

KEY = "pin:q:test"


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until ``condition()`` is true; fail after ``timeout`` seconds (never a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not true within {timeout} s"
        await asyncio.sleep(0.01)


class Started(RedisQueue):
    """A queue whose ``start`` runs the handler it was made with (8 at once)."""

    def __init__(self, redis: Redis, handler: Any, **kwargs: Any) -> None:
        super().__init__(redis, KEY, **kwargs)
        self.run = handler

    async def start(self) -> None:  # type: ignore[override]
        await super().start(self.run, concurrency=8)


def redis_queue(redis: Redis, handler: Any, claim: float = 60.0, **kwargs: Any) -> Started:
    return Started(redis, handler, claim_timeout=claim, **kwargs)


def on_redis(test: Callable[[Redis], Any]) -> None:
    async def main() -> None:
        redis = Redis.from_url(fresh_db().url)
        try:
            await test(redis)
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_each_job_runs_once_across_two_consumers() -> None:
    seen: list[int] = []

    async def handler(job: Job) -> None:
        await asyncio.sleep(0.005)
        seen.append(job["n"])
        return None

    async def test(redis: Redis) -> None:
        first, second = redis_queue(redis, handler), redis_queue(redis, handler)
        await first.start()
        await second.start()
        for n in range(40):
            await (first if n % 2 else second).put({"n": n})
        await until(lambda: len(seen) >= 40)
        await first.drain()
        await first.aclose()
        await second.aclose()
        assert sorted(seen) == list(range(40))
        assert await redis.xlen(KEY) == 0
        assert (await redis.xpending(KEY, GROUP))["pending"] == 0

    on_redis(test)


def test_a_job_held_by_a_dead_consumer_is_taken_over_after_the_claim_timeout() -> None:
    seen: list[Job] = []

    async def handler(job: Job) -> None:
        seen.append(job)
        return None

    async def test(redis: Redis) -> None:
        survivor = redis_queue(redis, handler, claim=0.3)
        await redis.xgroup_create(KEY, GROUP, id="0", mkstream=True)
        await survivor.put({"report": "r1"})
        # A worker reads the job and dies: it never acknowledges it.
        taken = await redis.xreadgroup(GROUP, "dead-worker", {KEY: ">"}, count=1)
        assert taken and taken[0][1]
        await survivor.start()
        await until(lambda: seen)
        await survivor.drain()
        await survivor.aclose()
        assert seen == [{"report": "r1"}]
        assert (await redis.xpending(KEY, GROUP))["pending"] == 0

    on_redis(test)


def test_a_retry_keeps_its_schedule_across_a_restart() -> None:
    runs: list[tuple[int, float]] = []
    queues: list[RedisQueue] = []

    async def handler(job: Job) -> None:
        runs.append((job["try"], time.time()))
        if job["try"] == 1:  # run it again half a second from now (a webhook retry)
            await queues[-1].put({**job, "try": job["try"] + 1}, delay=0.5)

    async def test(redis: Redis) -> None:
        before = redis_queue(redis, handler)
        queues.append(before)
        await before.start()
        await before.put({"try": 1})
        await until(lambda: runs)
        while (await redis.xpending(KEY, GROUP))["pending"] or not await redis.zcard(
            f"{KEY}:retry"
        ):
            await asyncio.sleep(0.01)  # until the first run is settled and its retry waits
        await before.aclose()  # the process stops while the retry waits
        (member, due), *_ = await redis.zrange(f"{KEY}:retry", 0, -1, withscores=True)
        assert due >= runs[0][1] + 0.5
        after = redis_queue(redis, handler)
        queues.append(after)
        await after.start()
        await until(lambda: len(runs) == 2)
        await after.drain()
        await after.aclose()
        assert [n for n, _ in runs] == [1, 2]
        assert runs[1][1] >= due  # not before its time

    on_redis(test)


def test_shutdown_hands_a_running_job_back_for_another_consumer_at_once() -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def stuck(job: Job) -> None:
        started.set()
        await asyncio.Event().wait()  # never ends: only a shutdown stops it
        return None

    async def quick(job: Job) -> None:
        finished.append(job["id"])
        return None

    async def test(redis: Redis) -> None:
        leaving = redis_queue(redis, stuck)
        await leaving.start()
        await leaving.put({"id": "job-1"})
        await started.wait()
        await leaving.aclose()
        # The claim timeout is a minute: only the hand-back lets the other run it now.
        other = redis_queue(redis, quick, claim=60.0)
        await other.start()
        await until(lambda: finished)
        await other.aclose()
        assert finished == ["job-1"]

    on_redis(test)


class Sweeping(Started):
    """A queue that counts the looks it took for idle jobs to take over."""

    sweeps = 0

    async def _claim(self) -> None:
        await super()._claim()
        self.sweeps += 1


def test_a_slow_job_is_renewed_so_nobody_takes_it_over() -> None:
    runs: list[str] = []
    claim = 1.0
    others: list[Sweeping] = []

    async def slow(job: Job) -> None:
        runs.append("ran")
        # Held until the other consumer has looked for idle jobs three times after the
        # job was a whole claim timeout old: without the heartbeat it would have taken
        # it over by then. (A condition, not a fixed time: a busy machine only delays it.)
        await until(lambda: others, timeout=30)
        began = others[0].sweeps
        await asyncio.sleep(claim)
        await until(lambda: others[0].sweeps >= began + 4, timeout=30)

    async def test(redis: Redis) -> None:
        first = redis_queue(redis, slow, claim=claim)
        second = Sweeping(redis, slow, claim_timeout=claim)
        await first.start()
        await first.put({"id": "slow"})
        await until(lambda: runs)
        await second.start()
        others.append(second)
        await first.drain()
        await first.aclose()
        await second.aclose()
        assert runs == ["ran"]

    on_redis(test)


def test_a_crashing_handler_does_not_leave_its_job_pending() -> None:
    async def crash(job: Job) -> None:
        raise RuntimeError("a bug")

    async def test(redis: Redis) -> None:
        queue = redis_queue(redis, crash, claim=0.2)
        await queue.start()
        await queue.put({"id": "bad"})
        await queue.drain()
        await queue.aclose()
        assert (await redis.xpending(KEY, GROUP))["pending"] == 0

    on_redis(test)


def test_the_memory_queue_hands_unfinished_jobs_back_at_shutdown() -> None:
    done: list[str] = []

    async def handler(job: Job) -> None:
        if job["id"] == "quick":
            done.append("quick")
            return None
        await asyncio.Event().wait()
        return None

    async def main() -> list[Job]:
        queue = MemoryQueue("test")
        await queue.start(handler, concurrency=8)
        await queue.put({"id": "quick", "client_id": "c"})
        await queue.put({"id": "stuck", "client_id": "c"})
        await queue.put({"id": "later", "client_id": "c"}, delay=60.0)
        await until(lambda: done)
        return (await queue.aclose()).abandoned

    left = asyncio.run(main())
    assert sorted(job["id"] for job in left) == ["later", "stuck"]


def test_a_job_interrupted_by_a_redis_outage_stays_pending_and_runs_again() -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    runs: list[str] = []

    async def flaky(job: Job) -> None:
        runs.append(job["id"])
        if len(runs) == 1:
            raise RedisConnectionError("Redis went away mid-job")
        return None

    async def test(redis: Redis) -> None:
        queue = redis_queue(redis, flaky, claim=0.3)
        await queue.start()
        await queue.put({"id": "outage"})
        await until(lambda: len(runs) == 2)  # not acknowledged: taken over once idle
        await queue.drain()
        await queue.aclose()
        assert runs == ["outage", "outage"]
        assert (await redis.xpending(KEY, GROUP))["pending"] == 0

    on_redis(test)


async def _swallows_one_cancel(job: Job) -> None:
    """A job that, like one whose cancel redis-py's per-write ``wait_for`` swallowed on
    Python 3.11 (``state/stopping.py``), runs on after its first cancel."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        pass  # swallowed: on into the next wait
    await asyncio.Event().wait()


def test_a_job_that_swallows_a_cancel_is_still_stopped_and_handed_back_on_both_engines() -> None:
    async def memory() -> list[Job]:
        queue = MemoryQueue("test")
        await queue.start(_swallows_one_cancel, concurrency=8)
        await queue.put({"id": "stubborn", "client_id": "c"})
        await asyncio.sleep(0.05)
        async with asyncio.timeout(5):  # one cancel and a wait: a shutdown for ever
            return (await queue.aclose()).abandoned

    assert [job["id"] for job in asyncio.run(memory())] == ["stubborn"]

    async def test(redis: Redis) -> None:
        leaving = redis_queue(redis, _swallows_one_cancel)
        await leaving.start()
        await leaving.put({"id": "stubborn"})
        await until(lambda: leaving._running)
        async with asyncio.timeout(5):
            assert (await leaving.aclose()).handed_back == 1

    on_redis(test)
