"""``RedisHealth``: the health port on Redis.

``check`` is one ``SET`` of ``pin:health`` with a 60 s expiry, on the same
connection pool as every request: it fails the way a request's write would
(lost, read-only, full under ``noeviction``). ``depths`` is one pipeline:
``XLEN`` of each queue's stream (entries are deleted once handled, so what
is left is waiting or under way) and ``ZCARD`` of its retry set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pin_mock.server.state.redis.queue import RedisQueue

if TYPE_CHECKING:
    from redis.asyncio import Redis

#: The probe's key lives this long (ms): it never accumulates.
PROBE_TTL_MS = 60_000


class RedisHealth:
    """The ``EngineHealth`` port on one Redis database."""

    def __init__(self, redis: Redis, key: str, queues: dict[str, RedisQueue]) -> None:
        self.redis = redis
        self.key = key
        self.queues = queues

    async def check(self) -> None:
        await self.redis.set(self.key, b"1", px=PROBE_TTL_MS)

    async def depths(self) -> dict[tuple[str, str], int]:
        pipe = self.redis.pipeline(transaction=False)
        for queue in self.queues.values():
            pipe.xlen(queue.stream)
            pipe.zcard(queue.retries)
        counts = iter(await pipe.execute())
        out: dict[tuple[str, str], int] = {}
        for name in self.queues:
            out[(name, "queued")], out[(name, "scheduled")] = next(counts), next(counts)
        return out
