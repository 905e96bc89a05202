"""The ``Counters`` port: fixed-window counters (rate limits, the token throttle).

Both engines count with ``limits``' own keys and values (``state/memory/counters.py``,
``state/redis/counters.py``): in memory atomic within the event loop, on Redis
across every worker (a hit is one Lua script). ``deferred_counts.py`` adds the
deferral of a ``/v1`` request's count onto its first state call.
"""

from __future__ import annotations

from typing import Protocol

from limits import RateLimitItem


class Counters(Protocol):
    """Fixed-window counters (rate limits, the token throttle), counted by ``limits``."""

    async def count(self, item: RateLimitItem, key: str) -> tuple[bool, float, int]:
        """Count one for ``key``: ``(allowed, reset_at, remaining after it)``."""
        ...

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one for ``key``; False if that passed the limit."""
        ...

    async def test(self, item: RateLimitItem, key: str) -> bool:
        """True if ``key`` may still be counted once."""
        ...

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        """``(reset_at, remaining)`` of ``key``'s window."""
        ...

    async def gate(
        self, tested: list[tuple[RateLimitItem, str]], item: RateLimitItem, key: str
    ) -> int:
        """``test`` each of ``tested``, then count one for ``key``, at once: -1 (allowed), the
        index of a spent tested budget (nothing counted), or ``len(tested)`` (over the limit)."""
        ...
