"""A client's objects of one kind on Redis (reports, webhooks): the quota and the write in
one step, creation order, the key names a reset relies on, a job queued with the add."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from pin_mock.server.state.redis.collections import RedisCollection
from pin_mock.server.state.redis.keyspace import Keyspace
from redis_db import fresh_db

NOW = 1_700_000_000.0


def on_redis(test: Callable[[Keyspace, Redis], Any]) -> None:
    async def main() -> None:
        redis = Redis.from_url(fresh_db().url)
        try:
            await test(Keyspace(redis, "pin", lambda: NOW), redis)
        finally:
            await redis.aclose()

    asyncio.run(main())


def test_add_get_all_count_in_creation_order() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        things = RedisCollection(engine, "things")
        for n in (3, 1, 2):
            assert await things.add("c1", {"id": f"t{n}", "n": n}, cap=10) is None
        assert [t["id"] for t in await things.all("c1")] == ["t3", "t1", "t2"]
        assert await things.get("c1", "t1") == {"id": "t1", "n": 1}
        assert await things.get("c1", "nope") is None
        assert await things.count("c1") == 3
        # Another client sees none of them.
        assert await things.all("c2") == [] and await things.count("c2") == 0
        assert await things.get("c2", "t1") is None

    on_redis(test)


def test_keys_are_named_for_the_reset_and_the_expiry() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        things = RedisCollection(engine, "things")
        await things.add("c1", {"id": "t1"}, cap=10)
        assert await redis.hkeys("pin:t:c1:things") == [b"t1"]
        assert await redis.zrange("pin:t:c1:things:order", 0, -1) == [b"t1"]
        assert await redis.get("pin:t:c1:seq") == b"1"
        assert await redis.smembers("pin:t:c1:keys") == {b"pin:t:c1:things:order", b"pin:t:c1:seq"}
        assert await redis.zscore("pin:tenants", "c1") == NOW

    on_redis(test)


def test_the_quota_refuses_with_what_is_held_and_writes_nothing() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        things = RedisCollection(engine, "things")
        assert await things.add("c1", {"id": "t1"}, cap=2) is None
        assert await things.add("c1", {"id": "t2"}, cap=2) is None
        assert await things.add("c1", {"id": "t3"}, cap=2, queue=("pin:q:s", "job")) == 2
        assert [t["id"] for t in await things.all("c1")] == ["t1", "t2"]
        assert await redis.get("pin:t:c1:seq") == b"2"
        assert await redis.exists("pin:q:s") == 0  # the refused add queued nothing

    on_redis(test)


def test_the_job_is_queued_with_the_add() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        things = RedisCollection(engine, "things")
        assert await things.add("c1", {"id": "t1"}, cap=5, queue=("pin:q:s", "job-1")) is None
        entries = await redis.xrange("pin:q:s")
        assert [fields for _, fields in entries] == [{b"job": b"job-1"}]

    on_redis(test)


def test_kinds_share_the_creation_counter_but_not_their_lists() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        reports = RedisCollection(engine, "reports")
        webhooks = RedisCollection(engine, "webhooks")
        await reports.add("c1", {"id": "r1"}, cap=5)
        await webhooks.add("c1", {"id": "w1"}, cap=5)
        await reports.add("c1", {"id": "r2"}, cap=5)
        assert [r["id"] for r in await reports.all("c1")] == ["r1", "r2"]
        assert [w["id"] for w in await webhooks.all("c1")] == ["w1"]
        assert await redis.get("pin:t:c1:seq") == b"3"

    on_redis(test)


def test_all_skips_an_id_whose_object_is_gone() -> None:
    async def test(engine: Keyspace, redis: Redis) -> None:
        things = RedisCollection(engine, "things")
        await things.add("c1", {"id": "t1"}, cap=5)
        await things.add("c1", {"id": "t2"}, cap=5)
        await redis.hdel("pin:t:c1:things", "t1")
        assert await things.all("c1") == [{"id": "t2"}]
        assert await things.count("c1") == 1

    on_redis(test)
