"""Fixed-window counters in memory (the ``Counters`` port): ``limits``' memory storage.

Its storage is synchronous, so a hit is atomic within the event loop and N+k
simultaneous requests admit exactly N.

``limits``' storage expires windows from a ``threading.Timer`` that it starts again
(at most every 10 ms) from the hit path, and ``Thread.start`` waits until the new
thread runs: on a busy machine that wait was a fifth of a request's cost. Here
the storage starts no thread: a window past its end is dropped when its key is
next counted (``limits`` does that on every read), and the windows nobody
counts any more are swept from the event loop every ``SWEEP_EVERY`` seconds.
"""

from __future__ import annotations

import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from pin_mock.server.state.deferred_counts import Counted, Refusal

#: How often the windows nobody counts any more are swept (seconds).
SWEEP_EVERY = 10.0


class LoopMemoryStorage(MemoryStorage):
    """``limits``' memory storage without its expiry thread (see the module)."""

    def __init__(self) -> None:
        super().__init__()
        self.timer.cancel()  # the one ``MemoryStorage.__init__`` started
        self._next_sweep = time.monotonic() + SWEEP_EVERY

    # ``MemoryStorage`` calls ``self.__schedule_expiry()`` (name-mangled to this) on every
    # hit; tests/server/state/test_counters.py fails if a hit starts a thread again.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_EVERY
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class MemoryCounters:
    """``Counters`` of this process."""

    def __init__(self) -> None:
        self._storage = LoopMemoryStorage()
        self._limiter = FixedWindowRateLimiter(self._storage)

    async def count(self, item: RateLimitItem, key: str) -> tuple[bool, float, int]:
        # Every request's count: ``limits``' fixed window (its ``hit`` and then its
        # ``get_window_stats``), on the storage at once, with the key made once.
        name = item.key_for(key)
        count = self._storage.incr(name, item.get_expiry())
        return count <= item.amount, self._storage.get_expiry(name), max(0, item.amount - count)

    async def defer(self, item: RateLimitItem, key: str, refusal: Refusal) -> Counted:
        # Nothing to save in memory: counted at once (the caller answers a refusal).
        return Counted(await self.count(item, key))

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        return self._limiter.hit(item, key)

    async def test(self, item: RateLimitItem, key: str) -> bool:
        return self._limiter.test(item, key)

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        reset_at, remaining = self._limiter.get_window_stats(item, key)
        return reset_at, remaining

    async def gate(
        self, tested: list[tuple[RateLimitItem, str]], item: RateLimitItem, key: str
    ) -> int:
        # No await in between: atomic within the event loop.
        for index, (budget, name) in enumerate(tested):
            if not self._limiter.test(budget, name):
                return index
        return -1 if self._limiter.hit(item, key) else len(tested)

    async def forget(self, item: RateLimitItem, key: str) -> None:
        self._limiter.clear(item, key)
