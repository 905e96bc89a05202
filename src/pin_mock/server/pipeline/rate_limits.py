"""Per-client rate limits with PIN's headers, as an ASGI middleware.

Counting is done by the ``limits`` library (a fixed window per client, so
``X-RateLimit-Reset`` is exact). In memory its storage is synchronous, so a
hit is atomic within the event loop and N+k simultaneous requests admit
exactly N; on the Redis engine its Redis storage counts with a Lua script, so
the same holds across every worker and replica (``Counters``). If Redis is
lost, the answer is ``503`` with ``Retry-After``. ``limits`` counts on the real clock, so the limiter does too (an
injected clock could not move its windows). The middleware sits outside
Connexion's exception layer so that every ``/v1`` response, error answers
included, gets the headers; the client is the one ``CallerMiddleware``
found, so the limiter and the operation layer can never disagree about who
is calling.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pin_mock.server.errors import RateLimited, render_raw
from pin_mock.server.pipeline.authentication import caller_of
from pin_mock.server.state.engine import StateEngine, unavailable

#: Window ends remembered per process (``Counters.count``), then forgotten at once.
_RESETS_MAX = 100_000


class Counters:
    """Fixed-window counters of the engine in use: this process's memory or Redis."""

    def __init__(self, engine: StateEngine | None = None, prefix: str = "limits") -> None:
        self.shared = engine is not None and engine.redis is not None
        if engine is not None and engine.redis is not None:
            from limits.aio.storage import RedisStorage
            from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixedWindow

            storage = RedisStorage(
                "async+" + engine.url,
                implementation="redispy",
                key_prefix=engine.key(prefix),
                connection_pool=engine.redis.connection_pool,
            )
            self._async = AsyncFixedWindow(storage)
            self._redis_storage = storage
            self._resets: dict[str, float] = {}
        else:
            self._storage = MemoryStorage()
            self._sync = FixedWindowRateLimiter(self._storage)

    async def hit(self, item: RateLimitItem, key: str) -> bool:
        """Count one for ``key``; False if that passed the limit."""
        if self.shared:
            return await self._async.hit(item, key)
        return self._sync.hit(item, key)

    async def count(self, item: RateLimitItem, key: str) -> tuple[bool, float, int]:
        """Count one for ``key``: ``(allowed, reset_at, remaining after it)``.

        On Redis the remainder is computed from the count this hit produced, so
        simultaneous hits on several workers each see their own (not a later read).
        """
        if not self.shared:
            allowed = self._sync.hit(item, key)
            reset_at, remaining = self._sync.get_window_stats(item, key)
            return allowed, reset_at, remaining
        storage, name = self._redis_storage, item.key_for(key)
        count = await storage.incr(name, item.get_expiry(), amount=1)
        # A window's end never moves, so it is read from Redis once per window and
        # worker: a hit costs one round trip, not two.
        now = time.time()
        reset_at = self._resets.get(name)
        if count == 1:
            reset_at = now + item.get_expiry()  # this hit opened the window
        elif reset_at is None or reset_at <= now:
            reset_at = await storage.get_expiry(name)
        if len(self._resets) >= _RESETS_MAX:
            self._resets.clear()
        self._resets[name] = reset_at
        return count <= item.amount, reset_at, max(0, item.amount - count)

    async def test(self, item: RateLimitItem, key: str) -> bool:
        """True if ``key`` may still be counted once."""
        if self.shared:
            return await self._async.test(item, key)
        return self._sync.test(item, key)

    async def stats(self, item: RateLimitItem, key: str) -> tuple[float, int]:
        """``(reset_at, remaining)`` of ``key``'s window."""
        if self.shared:
            reset_at, remaining = await self._async.get_window_stats(item, key)
        else:
            reset_at, remaining = self._sync.get_window_stats(item, key)
        return reset_at, remaining

    def reset(self) -> None:
        """Forget every counter (memory; Redis counters expire with their window)."""
        if not self.shared:
            self._storage.reset()


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
        self, tier_limits: Mapping[str, int], window: int, counters: Counters | None = None
    ) -> None:
        self._items = {tier: RateLimitItemPerSecond(n, window) for tier, n in tier_limits.items()}
        self._counters = counters or Counters()

    async def hit(self, key: str, tier: str) -> Decision:
        """Count one request for ``key`` and say whether it may proceed."""
        item = self._items[tier]
        allowed, reset_at, remaining = await self._counters.count(item, key)
        reset = math.ceil(reset_at)
        retry_after = max(1, math.ceil(reset_at - time.time()))
        return Decision(allowed, item.amount, max(0, remaining), reset, retry_after)

    def reset(self) -> None:
        """Forget every counter (tests, and a restart of the sandbox)."""
        self._counters.reset()


#: Every ``/v1`` answer carries these too: patient data must not be cached by a
#: browser or proxy, nor sniffed into another content type.
API_HEADERS = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]


class RateLimitMiddleware:
    """Counts ``/v1`` requests per client (or per address without a valid token).

    As the one layer that sees every ``/v1`` answer on its way out, it also adds
    ``API_HEADERS``.
    """

    def __init__(self, app: ASGIApp, *, limiter: RateLimiter, prefix: str = "/v1/") -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        caller = caller_of(scope)
        if caller.client_id is not None:
            key, tier = f"client:{caller.client_id}", caller.tier or "standard"
        else:
            key, tier = f"addr:{caller.peer or 'unknown'}", "standard"
        try:
            decision = await self.limiter.hit(key, tier)
        except Exception as exc:
            problem = unavailable(exc)  # Redis lost: 503, and nothing is counted
            if problem is None:
                raise
            status, headers, body = render_raw(problem, scope["path"])
            headers += API_HEADERS
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        extra = [*decision.headers(), *API_HEADERS]
        if not decision.allowed:
            error = RateLimited(
                f"Rate limit of {decision.limit} requests per window exceeded; "
                f"retry in {decision.retry_after} s.",
                {"limit": decision.limit, "retry_after": decision.retry_after},
            )
            status, headers, body = render_raw(error, scope["path"])
            await send(
                {"type": "http.response.start", "status": status, "headers": headers + extra}
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
