"""Per-client rate limits: a fixed window per key, one limit per tier.

Counted by the engine's ``Counters`` (``state/counters_port.py``): in memory atomic
within the event loop, on Redis across every worker and replica, so N+k
simultaneous requests admit exactly N. ``defer`` lets the count ride on the
request's first state call (``state/deferred_counts.py``: one Redis round trip
per request, not two); a refused count raises ``refusal`` there, so the request
changes nothing. ``limits`` counts on the real clock, so
the limiter does too (an injected clock could not move its windows). The
answer carries what PIN's ``X-RateLimit-*`` headers say
(``pipeline/rate_limits.py`` adds them to every ``/v1`` answer).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond

from pin_mock.server.errors import RateLimited
from pin_mock.server.state.deferred_counts import Count, DeferredCount, DeferringCounters


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


def refusal(decision: Decision) -> RateLimited:
    """The 429 of a refused ``decision``."""
    return RateLimited(
        f"Rate limit of {decision.limit} requests per window exceeded; "
        f"retry in {decision.retry_after} s.",
        {"limit": decision.limit, "retry_after": decision.retry_after},
    )


def _decision(item: RateLimitItem, count: Count, offset: float = 0.0) -> Decision:
    allowed, reset_at, remaining = count
    # The window runs on the real clock; its end is written on the caller's clock.
    reset = math.ceil(reset_at + offset)
    retry_after = max(1, math.ceil(reset_at - time.time()))
    return Decision(allowed, item.amount, max(0, remaining), reset, retry_after)


@dataclass(frozen=True)
class PendingDecision:
    """A decision whose count may still ride on the request's first state call."""

    item: RateLimitItem
    count: DeferredCount
    offset: Callable[[], float] = lambda: 0.0

    def known(self) -> Decision | None:
        """The decision if the count is made (always in memory), else None."""
        count = self.count.known()
        return None if count is None else _decision(self.item, count, self.offset())

    async def result(self) -> Decision:
        """The decision, counting now if no state call carried the count."""
        return _decision(self.item, await self.count.result(), self.offset())


class RateLimiter:
    """Fixed-window counters per key, one limit per tier."""

    def __init__(
        self,
        tier_limits: Mapping[str, int],
        window: int,
        counters: DeferringCounters,
        offset: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self._items = {tier: RateLimitItemPerSecond(n, window) for tier, n in tier_limits.items()}
        self._counters = counters
        # How far the caller's clock is from the real one (``domain/clocks.py``).
        self._offset = offset

    async def hit(self, key: str, tier: str) -> Decision:
        """Count one request for ``key`` and say whether it may proceed."""
        item = self._items[tier]
        return _decision(item, await self._counters.count(item, key), self._offset())

    async def defer(self, key: str, tier: str) -> PendingDecision:
        """Count one request for ``key`` now or with the request's first state call
        (which then raises the 429 if the count refused it)."""
        item = self._items[tier]

        def refuse(count: Count) -> RateLimited:
            return refusal(_decision(item, count, self._offset()))

        return PendingDecision(item, await self._counters.defer(item, key, refuse), self._offset)

    async def forget(self, key: str, tier: str, seconds: float) -> None:
        """``key``'s clock moved ``seconds`` ahead: if that passes its window's end, the
        window is over (the next hit opens a new one, with the whole budget)."""
        item = self._items.get(tier)
        if item is None:
            return
        reset_at, _remaining = await self._counters.stats(item, key)
        if reset_at - time.time() <= seconds:
            await self._counters.forget(item, key)
