"""The clock port on both engines, and the Redis workers' clock caches.

``ClockStore`` keeps each client's clock; on Redis each worker keeps the clocks
it read (``state/redis/clock_cache.py``) and hears of every move, so the move
made through one engine is what the other reads next, without a round trip on
reads in between.
"""

from __future__ import annotations

import asyncio

import pytest

from pin_mock.server.state.clock_port import REAL
from pin_mock.server.state.engine import open_state
from redis_db import fresh_db

T0 = 1_893_456_000.0  # 2030-01-01T00:00:00Z


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_moves_are_atomic_steps_that_bump_the_version(engine: str) -> None:
    url = "memory://" if engine == "memory" else fresh_db().url

    async def main() -> None:
        state = open_state(url)
        try:
            clocks = state.clocks
            assert await clocks.read("a") == REAL
            frozen = await clocks.freeze("a", T0, real=1000.0)
            assert (frozen.frozen_at, frozen.version) == (T0, 1)
            # Two advances at once both count.
            await asyncio.gather(clocks.advance("a", 5, 1000.0), clocks.advance("a", 7, 1000.0))
            ahead = await clocks.read("a")
            assert (ahead.now(99999.0), ahead.version) == (T0 + 12, 3)
            resumed = await clocks.resume("a", real=2000.0)
            assert (resumed.frozen, resumed.now(2000.0), resumed.now(2010.0)) == (
                False,
                T0 + 12,
                T0 + 22,
            )
            assert await clocks.read("b") == REAL  # another client's clock never moved
        finally:
            await state.aclose()

    asyncio.run(main())


def test_a_move_through_one_redis_worker_is_read_by_the_other_at_once() -> None:
    db = fresh_db()

    async def main() -> None:
        one, two = open_state(db.url), open_state(db.url)
        try:
            assert await two.clocks.read("a") == REAL  # read once: cached by worker two
            deadline = asyncio.get_running_loop().time() + 10
            while not two.clocks.cache.live:  # its listener is subscribed
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
            await one.clocks.read("a")
            for step in range(1, 6):
                await one.clocks.advance("a", 1.0, real=1000.0)
                assert (await two.clocks.read("a")).offset == step  # never the stale entry
            # Between moves, worker two answers from its cache: a change made behind the
            # listeners' backs (no move announced) is not seen until the next move.
            db.client().hset("pin:t:a:clock", "offset", "999")
            assert (await two.clocks.read("a")).offset == 5
            await one.clocks.dropped("a")
            assert (await two.clocks.read("a")).offset == 999
        finally:
            await one.aclose()
            await two.aclose()

    asyncio.run(main())


def test_without_a_live_subscription_every_read_goes_to_redis() -> None:
    db = fresh_db()

    async def main() -> None:
        state = open_state(db.url)
        try:
            cache = state.clocks.cache
            await cache.aclose()  # no listener: never live
            cache._listener = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
            assert await state.clocks.read("a") == REAL
            db.client().hset("pin:t:a:clock", mapping={"offset": "42", "version": "1"})
            assert (await state.clocks.read("a")).offset == 42
        finally:
            await state.aclose()

    asyncio.run(main())


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_a_wake_queues_the_clients_waiting_jobs_in_the_order_they_fall_due(engine: str) -> None:
    url = "memory://" if engine == "memory" else fresh_db().url

    async def main() -> list[int]:
        state = open_state(url)
        ran: list[int] = []
        try:
            await state.deliveries.start(lambda job: _record(ran, job), concurrency=1)
            clocks = state.clocks
            # Held (a frozen clock) and scheduled (a running one), put out of order; and
            # another client's, which this client's wake leaves alone.
            for n, due, delay in ((3, 30.0, None), (1, 10.0, None), (4, 15.0, 3600.0)):
                job = {"client_id": "a", "m": f"m{n}", "a": 2, "n": n, "due": due}
                await clocks.later("deliveries", job, f"m{n}", delay, 0)
            other = {"client_id": "b", "m": "m9", "a": 2, "n": 9, "due": 1.0}
            await clocks.later("deliveries", other, "m9", None, 0)
            await clocks.later("deliveries", {**other, "n": 2, "due": 20.0}, "m2", None, 1)
            assert await clocks.wake("a") == 3
            deadline = asyncio.get_running_loop().time() + 10
            while len(ran) < 4:  # the last: "b"'s job seen at a version it no longer has
                assert asyncio.get_running_loop().time() < deadline, ran
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            return ran
        finally:
            await state.deliveries.aclose()
            await state.aclose()

    ran = asyncio.run(main())
    # "b"'s job put with a stale version ran at once; then "a"'s three by due time.
    assert ran == [2, 1, 4, 3]


async def _record(ran: list[int], job: dict) -> None:
    ran.append(int(job["n"]))


def test_a_sleeper_on_one_redis_worker_wakes_when_another_moves_the_clock() -> None:
    """A report holding its slot sleeps until its due time on worker two; the client
    advances its clock through worker one: worker two's sleeper wakes then, not at the
    end of its sleep (``ClockStore.on_moves``)."""
    from pin_mock.server.domain.clocks import ClientClocks

    db = fresh_db()

    async def main() -> float:
        one, two = open_state(db.url), open_state(db.url)
        try:
            moving, sleeping = ClientClocks(one.clocks), ClientClocks(two.clocks)
            await sleeping.enter("a")  # starts worker two's listener
            deadline = asyncio.get_running_loop().time() + 10
            while not two.clocks.cache.live:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.01)
            loop = asyncio.get_running_loop()
            started = loop.time()
            sleeper = asyncio.create_task(sleeping.sleep("a", 60.0))
            await asyncio.sleep(0.05)
            assert not sleeper.done()
            await moving.advance("a", 3600)
            await asyncio.wait_for(sleeper, 10)
            return loop.time() - started
        finally:
            await one.aclose()
            await two.aclose()

    assert asyncio.run(main()) < 10  # woken by the move, not after its 60 s
