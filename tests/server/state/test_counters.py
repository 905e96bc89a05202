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


def test_memory_counts_start_no_thread_and_windows_still_expire(monkeypatch) -> None:
    """``limits``' memory storage starts a timer thread from its hit path, and waiting for
    a thread to start cost a fifth of a request on a busy machine (state/memory/counters.py)."""
    import threading

    from limits import RateLimitItemPerSecond

    import pin_mock.server.state.memory.counters as memory_counters

    started: list[threading.Thread] = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda t: (started.append(t), real_start(t)))
    counters = memory_counters.MemoryCounters()
    started.clear()  # ``limits`` starts (and we cancel) one timer when it is built: once
    item = RateLimitItemPerSecond(3, 1)

    async def main() -> list[tuple[bool, float, int]]:
        return [await counters.count(item, f"k{n % 2}") for n in range(8)]

    counts = asyncio.run(main())
    assert started == []
    assert [c[0] for c in counts] == [True] * 6 + [False] * 2  # three each for k0 and k1
    storage = counters._limiter.storage
    # The sweep drops windows past their end that nobody counts any more.
    for key in storage.expirations:
        storage.expirations[key] = 0.0
    monkeypatch.setattr(memory_counters, "SWEEP_EVERY", 0.0)
    storage._next_sweep = 0.0
    asyncio.run(counters.count(item, "k2"))
    assert set(storage.storage) == {item.key_for("k2")}
    assert started == []


def test_a_gate_tests_budgets_then_counts_alike_on_both_engines_exactly_across_workers() -> None:
    """``Counters.gate`` (a granted token request's one round trip): a spent tested budget
    refuses and counts nothing; otherwise one is counted, exactly, across two workers."""
    from limits import RateLimitItemPerSecond

    db = fresh_db()
    lock, grants = RateLimitItemPerSecond(3, 60), RateLimitItemPerSecond(10, 60)

    async def run(state: str) -> tuple[list[int], list[int], int]:
        engines = [open_state(state) for _ in range(1 if state == "memory://" else 2)]
        counters = [e.counters("throttle") for e in engines]
        try:
            tested = [(lock, "address:a"), (lock, "pair:c|a")]
            gates = [counters[n % len(counters)].gate(tested, grants, "c") for n in range(13)]
            admitted = sorted(await asyncio.gather(*gates))
            for _ in range(3):  # the pair's budget spent: refused before the count
                await counters[0].hit(lock, "pair:c|a")
            locked = [await c.gate(tested, grants, "other") for c in counters]
            _, remaining = await counters[0].stats(grants, "other")
            return admitted, locked, remaining
        finally:
            for engine in engines:
                await engine.aclose()

    memory, redis = asyncio.run(run("memory://")), asyncio.run(run(db.url))
    assert memory[0] == redis[0] == [-1] * 10 + [2] * 3  # 10 admitted, 3 past the limit
    assert memory[1] == [1] and redis[1] == [1, 1]  # the second tested budget is spent
    assert memory[2] == redis[2] == 10  # and nothing was counted for "other"


def test_a_window_opened_by_another_worker_after_a_forget_shows_its_own_end() -> None:
    """A client's clock advanced past its window's end on worker A (``forget``); a new
    window opens; worker B, which remembered the old window's end, names the new one."""
    from limits import RateLimitItemPerSecond

    db = fresh_db()
    item = RateLimitItemPerSecond(10, 60)

    async def main() -> tuple[float, float, float]:
        a, b = open_state(db.url), open_state(db.url)
        try:
            first_a, first_b = a.counters("limits"), b.counters("limits")
            _, old_end, _ = await first_b.count(item, "client:x")  # B remembers this end
            await first_a.forget(item, "client:x")
            await asyncio.sleep(1.5)  # the new window ends 1.5 s after the old one
            _, new_end, _ = await first_a.count(item, "client:x")
            _, seen_by_b, _ = await first_b.count(item, "client:x")
            return old_end, new_end, seen_by_b
        finally:
            await a.aclose()
            await b.aclose()

    old_end, new_end, seen_by_b = asyncio.run(main())
    assert new_end - old_end >= 1.4
    assert abs(seen_by_b - new_end) < 0.5, (old_end, new_end, seen_by_b)
