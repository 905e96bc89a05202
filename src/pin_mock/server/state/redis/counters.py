"""Fixed-window counters on Redis (the ``Counters`` port), shared by every worker.

``limits``' Redis storage counts with a Lua script, so N+k simultaneous hits on
however many workers admit exactly N. The remainder of a hit is computed from
the count that hit produced (not a later read), and a window's end is read
from Redis once per window and worker: a hit costs one round trip.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

#: Window ends remembered per process (``count``), then forgotten at once.
_RESETS_MAX = 100_000


class RedisCounters:
    """``Counters`` in Redis under ``prefix``, on the engine's connection pool."""

    def __init__(self, url: str, pool: ConnectionPool, prefix: str) -> None:
        self._storage = RedisStorage(
            "async+" + url, implementation="redispy", key_prefix=prefix, connection_pool=pool
        )
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._resets: dict[str, float] = {}

    async def count(self, item: RateLimitItem, key: str) -> tuple[bool, float, int]:
        name = item.key_for(key)
        count = await self._storage.incr(name, item.get_expiry(), amount=1)
        # A window's end never moves, so it is read from Redis once per window and
        # worker: a hit costs one round trip, not two.
        now = time.time()
        reset_at = self._resets.get(name)
        if count == 1:
            reset_at = now + item.get_expiry()  # this hit opened the window
        elif reset_at is None or reset_at <= now:
            reset_at = await self._storage.get_expiry(name)
        if len(self._resets) >= _RESETS_MAX:
            self._resets.clear()
        self._resets[name] = reset_at
        return count <= item.amount, reset_at, max(0, item.amount - count)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        return await self._limiter.hit(item, key)

    async def test(self, item: RateLimitItem, key: str) -> bool:
        return await self._limiter.test(item, key)

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        reset_at, remaining = await self._limiter.get_window_stats(item, key)
        return reset_at, remaining

    async def forget(self, item: RateLimitItem, key: str) -> None:
        await self._limiter.clear(item, key)
        self._resets.pop(item.key_for(key), None)
