"""Fixed-window counters in memory (the ``Counters`` port): ``limits``' memory storage.

Its storage is synchronous, so a hit is atomic within the event loop and N+k
simultaneous requests admit exactly N.
"""

from __future__ import annotations

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter


class MemoryCounters:
    """``Counters`` of this process."""

    def __init__(self) -> None:
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    async def count(self, item: RateLimitItem, key: str) -> tuple[bool, float, int]:
        allowed = self._limiter.hit(item, key)
        reset_at, remaining = self._limiter.get_window_stats(item, key)
        return allowed, reset_at, remaining

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        return self._limiter.hit(item, key)

    async def test(self, item: RateLimitItem, key: str) -> bool:
        return self._limiter.test(item, key)

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        reset_at, remaining = self._limiter.get_window_stats(item, key)
        return reset_at, remaining

    async def forget(self, item: RateLimitItem, key: str) -> None:
        self._limiter.clear(item, key)
