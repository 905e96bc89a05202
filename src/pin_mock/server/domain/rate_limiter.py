"""Per-client rate limits: a fixed window per key, one limit per tier.

Counted by the engine's ``Counters`` (``state/ports.py``): in memory atomic
within the event loop, on Redis across every worker and replica, so N+k
simultaneous requests admit exactly N. ``limits`` counts on the real clock, so
the limiter does too (an injected clock could not move its windows). The
answer carries what PIN's ``X-RateLimit-*`` headers say
(``pipeline/rate_limits.py`` adds them to every ``/v1`` answer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from limits import RateLimitItemPerSecond

from pin_mock.server.state.ports import Counters


@dataclass(frozen=True)
class Decision:
    """The outcome of one hit: allowed or not, and the header values."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        """The ``X-RateLimit-*`` headers (and ``Retry-After`` when refused)."""
        out = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            out.append((b"retry-after", str(self.retry_after).encode()))
        return out


class RateLimiter:
    """Fixed-window counters per key, one limit per tier."""

    def __init__(
        self,
        tier_limits: Mapping[str, int],
        window: int,
        counters: Counters,
        offset: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._items = {tier: RateLimitItemPerSecond(n, window) for tier, n in tier_limits.items()}
        self._counters = counters
        # How far the caller's clock is from the real one: X-RateLimit-Reset is on its clock.
        self._offset = offset

    async def hit(self, key: str, tier: str) -> Decision:
        """Count one request for ``key`` and say whether it may proceed."""
        item = self._items[tier]
        allowed, reset_at, remaining = await self._counters.count(item, key)
        reset = math.ceil(reset_at + self._offset())
        retry_after = max(1, math.ceil(reset_at - time.time()))
        return Decision(allowed, item.amount, max(0, remaining), reset, retry_after)

    async def forget(self, key: str, tier: str, seconds: float) -> None:
        """``key``'s clock moved ``seconds`` ahead: if that passes its window's end, the
        window is over (the next hit opens a new one, with the whole budget)."""
        item = self._items.get(tier)
        if item is None:
            return
        reset_at, _remaining = await self._counters.stats(item, key)
        if reset_at - time.time() <= seconds:
            await self._counters.forget(item, key)
