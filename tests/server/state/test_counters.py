"""Rate-limit counters on Redis: exact across workers, with the same answers as in memory."""

from __future__ import annotations

import asyncio

from pin_mock.server.domain.rate_limiter import RateLimiter
from pin_mock.server.state.engine import open_state
from redis_db import fresh_db

LIMITS = {"standard": 10, "professional": 10, "enterprise": 10}


def test_simultaneous_hits_on_two_workers_admit_exactly_the_limit() -> None:
    db = fresh_db()

    async def main() -> list:
        engines = [open_state(db.url), open_state(db.url)]
        try:
            limiters = [RateLimiter(LIMITS, 60, e.counters("limits")) for e in engines]
            hits = [limiters[n % 2].hit("client:a", "standard") for n in range(25)]
            return await asyncio.gather(*hits)
        finally:
            for engine in engines:
                await engine.aclose()

    decisions = asyncio.run(main())
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))
    refused = [d for d in decisions if not d.allowed]
    assert all(d.remaining == 0 and d.retry_after >= 1 for d in refused)
    assert len({d.reset for d in decisions}) <= 2  # one window (a second's rounding at most)


def test_memory_and_redis_counters_decide_alike() -> None:
    db = fresh_db()

    async def run(state: str) -> list:
        engine = open_state(state)
        try:
            limiter = RateLimiter(LIMITS, 60, engine.counters("limits"))
            return [
                (d.allowed, d.limit, d.remaining)
                for d in [await limiter.hit("client:b", "standard") for _ in range(12)]
            ]
        finally:
            await engine.aclose()

    assert asyncio.run(run("memory://")) == asyncio.run(run(db.url))
