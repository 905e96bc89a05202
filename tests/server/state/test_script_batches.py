"""Concurrent scripts of one worker go to Redis together (``state/redis/batches.py``).

Each call still gets its own answer, in the order the calls were made, and its
own error; a call alone when nothing is under way goes at once; a Redis that
forgot its scripts (a restart, ``SCRIPT FLUSH``) is sent them again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeout

from pin_mock.server.state.redis.batches import ScriptBatches
from private_redis import PrivateRedis
from redis_db import fresh_db

# KEYS: a counter; ARGV: a tag. -> {count after this call's INCR, the tag}
COUNT = "return {redis.call('INCR', KEYS[1]), ARGV[1]}"
FAIL = "return redis.error_reply('refused: ' .. ARGV[1])"


def _with_redis(body: Callable[[Redis, ScriptBatches], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        redis = Redis.from_url(fresh_db().url)
        try:
            return await body(redis, ScriptBatches(redis))
        finally:
            await redis.aclose()

    return asyncio.run(main())


def test_simultaneous_calls_are_batched_and_each_gets_its_own_answer_in_order() -> None:
    async def body(redis: Redis, batches: ScriptBatches) -> None:
        count = redis.register_script(COUNT)
        calls = [batches.run(count, ["n"], [f"call-{i}"]) for i in range(50)]
        answers = await asyncio.gather(*calls)
        # Made in this order, run in this order: the i-th call saw the counter at i + 1.
        assert answers == [[i + 1, f"call-{i}".encode()] for i in range(50)]
        assert batches.sent >= 1  # the 49 behind the first went in one batch, or a few
        assert await redis.get("n") == b"50"

    _with_redis(body)


def test_a_call_alone_goes_at_once_without_a_batch() -> None:
    async def body(redis: Redis, batches: ScriptBatches) -> None:
        count = redis.register_script(COUNT)
        for i in range(5):
            assert await batches.run(count, ["n"], ["alone"]) == [i + 1, b"alone"]
        assert batches.sent == 0

    _with_redis(body)


def test_a_failing_call_fails_alone() -> None:
    async def body(redis: Redis, batches: ScriptBatches) -> None:
        count, fail = redis.register_script(COUNT), redis.register_script(FAIL)
        calls = [batches.run(fail if i % 3 == 1 else count, ["n"], [str(i)]) for i in range(9)]
        answers = await asyncio.gather(*calls, return_exceptions=True)
        for i, answer in enumerate(answers):
            if i % 3 == 1:
                assert isinstance(answer, ResponseError) and f"refused: {i}" in str(answer)
            else:
                assert isinstance(answer, list) and answer[1] == str(i).encode()
        assert batches.sent >= 1
        assert await redis.get("n") == b"6"

    _with_redis(body)


@pytest.mark.parametrize("simultaneous", [1, 20])
def test_scripts_redis_forgot_are_sent_again(simultaneous: int) -> None:
    async def body(redis: Redis, batches: ScriptBatches) -> None:
        count = redis.register_script(COUNT)
        assert await batches.run(count, ["n"], ["first"]) == [1, b"first"]
        await redis.script_flush()  # what a restarted Redis knows of our scripts
        calls = [batches.run(count, ["n"], [str(i)]) for i in range(simultaneous)]
        answers = await asyncio.gather(*calls)
        assert sorted(a[0] for a in answers) == list(range(2, simultaneous + 2))
        assert [a[1] for a in answers] == [str(i).encode() for i in range(simultaneous)]

    _with_redis(body)


def test_a_connection_redis_closed_is_made_again_and_the_call_runs_once(
    private_redis: PrivateRedis,
) -> None:
    async def main() -> None:
        redis = Redis.from_url(private_redis.url)  # its own server: the kill below is its
        batches = ScriptBatches(redis)
        count = redis.register_script(COUNT)
        try:
            assert await batches.run(count, ["n"], ["first"]) == [1, b"first"]
            # Every other connection closed by Redis (a restart, an idle timeout, a
            # proxy): the batches' own connection with them.
            assert await redis.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
            assert await batches.run(count, ["n"], ["after"]) == [2, b"after"]
            assert await redis.get("n") == b"2"  # sent again on a new connection: run once
            calls = [batches.run(count, ["n"], [str(i)]) for i in range(5)]
            assert [a[0] for a in await asyncio.gather(*calls)] == [3, 4, 5, 6, 7]
        finally:
            await batches.aclose()
            await redis.aclose()

    asyncio.run(main())


def test_a_cancelled_waiting_call_leaves_the_others_answered() -> None:
    async def body(redis: Redis, batches: ScriptBatches) -> None:
        count = redis.register_script(COUNT)
        tasks = [asyncio.ensure_future(batches.run(count, ["n"], [str(i)])) for i in range(10)]
        await asyncio.sleep(0)  # all started: the first is under way, the rest wait
        tasks[5].cancel()
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        assert isinstance(answers[5], asyncio.CancelledError)
        others = [a for i, a in enumerate(answers) if i != 5]
        assert all(isinstance(a, list) for a in others)
        # A later call still goes (no lane was left taken).
        assert (await batches.run(count, ["n"], ["after"]))[1] == b"after"

    _with_redis(body)


def test_a_call_behind_a_batch_a_hung_redis_never_answers_gives_up_unsent(
    private_redis: PrivateRedis,
) -> None:
    async def main() -> None:
        redis = Redis.from_url(private_redis.url)
        batches = ScriptBatches(redis, timeout=0.3)
        count = redis.register_script(COUNT)
        try:
            assert await batches.run(count, ["n"], ["loaded"]) == [1, b"loaded"]
            private_redis.freeze()  # accepts, never answers
            first = asyncio.ensure_future(batches.run(count, ["n"], ["sent"]))
            await asyncio.sleep(0)  # under way, on the wire
            began = asyncio.get_running_loop().time()
            with pytest.raises(RedisTimeout, match="not sent"):
                await batches.run(count, ["n"], ["waiting"])
            assert asyncio.get_running_loop().time() - began < 2.0  # its own bound, not two
            with pytest.raises(RedisTimeout, match="did not answer within 0.3 s"):
                await first  # the call that was sent gives up at its bound too ...
            private_redis.thaw()
            # ... but Redis runs it once it reads it again, and never the one that gave up.
            deadline = asyncio.get_running_loop().time() + 5
            while await redis.get("n") != b"2" and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.02)
            assert await redis.get("n") == b"2"
            assert batches._waiting == []
            # The lane's connection was closed with its unread answer: the next call is
            # answered its own answer, on a new one.
            assert await batches.run(count, ["n"], ["after"]) == [3, b"after"]
        finally:
            private_redis.thaw()
            await redis.aclose()

    asyncio.run(main())
