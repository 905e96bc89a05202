"""Fixed-window counters on Redis (the ``Counters`` port), shared by every worker.

A hit is one Lua script (``trips.LIMIT``: the count and the time left in its
window), so N+k simultaneous hits on however many workers admit exactly N. The
keys and values are ``limits``' own (``limits``' Redis storage still answers
``hit``, ``test`` and ``stats``, for the token throttle's failure paths; a granted
token request is one script, ``GATE``). A ``/v1`` request's
count is deferred (``defer``): it rides on the request's first Redis call
(``trips.py``), so a simple request costs one round trip, not two.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter

from pin_mock.server.state.deferred_counts import Count, Refusal
from pin_mock.server.state.redis import trips

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool

    from pin_mock.server.state.redis.batches import ScriptBatches

# ``Counters.gate`` in one script: ``limits``' test (the count is below the limit) of
# each tested key, then, if none is spent, its hit on the last (``LIMIT``'s count).
# KEYS: the tested counters, then the counted one; ARGV: each tested one's limit,
# then the counted one's window seconds and limit.
# -> 0: counted and allowed | i: the i-th tested is spent | #KEYS: the count passed its limit
GATE = """
local last = #KEYS
for i = 1, last - 1 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[i]) then return i end
end
local count = redis.call('INCRBY', KEYS[last], 1)
if count == 1 or redis.call('TTL', KEYS[last]) < 0 then
  redis.call('EXPIRE', KEYS[last], ARGV[last])
end
if count > tonumber(ARGV[last + 1]) then return last end
return 0
"""
#: Window ends remembered per process (``count``), then forgotten at once.
_RESETS_MAX = 100_000


class RedisCounters:
    """``Counters`` in Redis under ``prefix``, on the engine's connection pool."""

    def __init__(self, url: str, pool: ConnectionPool, prefix: str, batches: ScriptBatches) -> None:
        self._storage = RedisStorage(
            "async+" + url, implementation="redispy", key_prefix=prefix, connection_pool=pool
        )
        self._limiter = FixedWindowRateLimiter(self._storage)
        self._prefix = prefix
        # Sent with the worker's other scripts of the moment, by the batches' plain
        # client: the count is the one call that never waits for a count
        # (``trips.CountingRedis``).
        self._batches = batches
        self._limit = batches.redis.register_script(trips.LIMIT)
        self._gate = batches.redis.register_script(GATE)
        self._resets: dict[str, float] = {}

    def _name(self, item: RateLimitItem, key: str) -> str:
        return f"{self._prefix}:{item.key_for(key)}"  # ``limits``' own key

    def _reader(self, name: str, item: RateLimitItem) -> Any:
        def read(raw: list[Any]) -> Count:
            allowed, count, left_ms = int(raw[0]), int(raw[1]), int(raw[2])
            # A window's end never moves: remembered per window and worker, so every
            # answer of a window names the same second. One that Redis puts over a
            # second away is another window's (opened by another worker after a
            # client's clock moved past the old one's end: ``forget``).
            now = time.time()
            reset_at = self._resets.get(name)
            ends = now + (item.get_expiry() if count == 1 else left_ms / 1000)
            if count == 1 or reset_at is None or reset_at <= now or abs(reset_at - ends) > 1:
                reset_at = ends
                if len(self._resets) >= _RESETS_MAX:
                    self._resets.clear()
                self._resets[name] = reset_at
            return allowed == 1, reset_at, max(0, item.amount - count)

        return read

    async def _send(self, name: str, args: list[int]) -> Any:
        return await self._batches.run(self._limit, [name], args)

    async def count(self, item: RateLimitItem, key: str) -> Count:
        name = self._name(item, key)
        args = [item.get_expiry(), item.amount]
        return self._reader(name, item)(await self._send(name, args))

    async def defer(self, item: RateLimitItem, key: str, refusal: Refusal) -> trips.Pending:
        name = self._name(item, key)
        args = [item.get_expiry(), item.amount]
        return trips.defer(trips.Pending(name, args, self._reader(name, item), refusal, self._send))

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        return await self._limiter.hit(item, key)

    async def test(self, item: RateLimitItem, key: str) -> bool:
        return await self._limiter.test(item, key)

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        reset_at, remaining = await self._limiter.get_window_stats(item, key)
        return reset_at, remaining

    async def gate(
        self, tested: list[tuple[RateLimitItem, str]], item: RateLimitItem, key: str
    ) -> int:
        keys = [self._name(budget, name) for budget, name in tested] + [self._name(item, key)]
        args = [budget.amount for budget, _ in tested] + [item.get_expiry(), item.amount]
        return int(await self._batches.run(self._gate, keys, args)) - 1

    async def forget(self, item: RateLimitItem, key: str) -> None:
        await self._limiter.clear(item, key)
        self._resets.pop(self._name(item, key), None)
