"""The Redis engine's tenant state: atomic quotas across workers, reset, expiry, ids.

Each test runs against a Redis database of this test process's own
(``redis_db.fresh_db``); two ``RedisTenants`` on one database stand for two
workers (or replicas) sharing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pin_mock.server.domain.ids import IdFactory
from pin_mock.server.search_index import search_key
from pin_mock.server.state.engine import open_state
from pin_mock.server.state.memory.engine import MemoryEngine
from pin_mock.server.state.memory.keys import MemoryIdSpace
from pin_mock.server.state.ports import NO_PATIENT, QUOTA_FULL
from pin_mock.server.state.redis.keys import RedisIdSpace
from pin_mock.server.state.redis.tenants import RedisTenants
from redis_db import ClaimedDb, fresh_db

A, B = "sandbox-enterprise", "sandbox-standard"
TTL = 3600


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db() -> ClaimedDb:
    return fresh_db()


def patient(ids: IdFactory, name: str = "Ada Lovelace") -> dict[str, Any]:
    return {"id": ids.new("patient"), "name": name, "date_of_birth": "1990-01-01"}


def run(db: ClaimedDb, body: Callable[..., Any], workers: int = 1, clock: Clock | None = None):
    """Run ``body(*tenants)`` with ``workers`` engines on ``db``, in one event loop."""

    async def main() -> Any:
        now = clock or Clock()
        engines = [open_state(db.url, clock=now, sandbox_ttl=TTL) for _ in range(workers)]
        try:
            return await body(*(engine.tenants for engine in engines))
        finally:
            for engine in engines:
                await engine.aclose()

    return asyncio.run(main())


def test_concurrent_creates_on_two_workers_stop_exactly_at_the_quota(db: ClaimedDb) -> None:
    ids = IdFactory(MemoryIdSpace())

    async def body(one: RedisTenants, two: RedisTenants) -> list:
        creates = [
            (one if n % 2 else two).add_patient(A, p, search_key(p), 10)
            for n, p in enumerate(patient(ids) for _ in range(30))
        ]
        results = await asyncio.gather(*creates)
        return [results, await one.usage(A), await two.page(A, 0, 100)]

    results, usage, (page, total) = run(db, body, workers=2)
    assert sum(r.stored for r in results) == 10 == usage["patients"] == total == len(page)
    refused = [r for r in results if not r.stored]
    assert all(r.reason == QUOTA_FULL and r.used == 10 for r in refused)


def test_entries_count_against_their_quota_and_need_their_patient(db: ClaimedDb) -> None:
    ids = IdFactory(MemoryIdSpace())
    mine = patient(ids)

    async def body(tenants: RedisTenants) -> list:
        await tenants.add_patient(A, mine, search_key(mine), 10)

        def entry(pid: str) -> dict[str, Any]:
            return {"id": ids.new("cd"), "patient_id": pid, "recorded_at": "2024-01-01T00:00:00Z"}

        return [
            await tenants.add_entry(A, entry(mine["id"]), 2, seeded_patient=False),
            await tenants.add_entry(A, entry("patient_7"), 2, seeded_patient=True),
            await tenants.add_entry(A, entry(mine["id"]), 2, seeded_patient=False),
            await tenants.add_entry(A, entry("patient_nobody"), 2, seeded_patient=False),
            await tenants.add_entry(B, entry(mine["id"]), 2, seeded_patient=False),  # not B's
            await tenants.usage(A),
            await tenants.patient_and_entries(A, mine["id"], seeded=False),
        ]

    first, second, full, unknown, foreign, usage, (found, entries) = run(db, body)
    assert first.stored and second.stored
    assert (full.stored, full.reason, full.used) == (False, QUOTA_FULL, 2)
    assert (unknown.reason, foreign.reason) == (NO_PATIENT, NO_PATIENT)
    assert usage == {"patients": 1, "entries": 2}
    assert found == mine and [e["patient_id"] for e in entries] == [mine["id"]]


def test_reset_removes_every_key_of_the_tenant_and_only_its_own(db: ClaimedDb) -> None:
    ids = IdFactory(MemoryIdSpace())

    async def body(tenants: RedisTenants) -> dict:
        for client in (A, B):
            for n in range(5):
                p = patient(ids, f"Person {n} of {client}")
                await tenants.add_patient(client, p, search_key(p), 100)
                entry = {"id": ids.new("cd"), "patient_id": p["id"], "recorded_at": "2024"}
                await tenants.add_entry(client, entry, 100, seeded_patient=False)
        version = await tenants.version(A)
        removed = await tenants.reset(A)
        assert await tenants.version(A) == 0 != version
        assert await tenants.search(A, "person", 0, 10) == ([], 0)
        assert (await tenants.search(B, "person", 0, 10))[1] == 5
        return removed

    removed = run(db, body)
    assert removed == {"patients": 5, "clinical_data": 5, "reports": 0, "webhooks": 0}
    with db.client() as client:
        left = {k.decode() for k in client.keys("pin:t:*")}
    assert left and all(k.startswith(f"pin:t:{B}:") for k in left)


def test_idle_sandboxes_expire_and_active_ones_stay(db: ClaimedDb) -> None:
    ids = IdFactory(MemoryIdSpace())
    clock = Clock()

    async def body(tenants: RedisTenants) -> list:
        for client in (A, B):
            p = patient(ids)
            await tenants.add_patient(client, p, search_key(p), 10)
        clock.now += TTL - 10
        p = patient(ids)
        await tenants.add_patient(B, p, search_key(p), 10)  # B is active again
        clock.now += 20  # A has been idle TTL + 10 s, B 20 s
        dropped = await tenants.expire_idle()
        return [dropped, await tenants.usage(A), await tenants.usage(B)]

    dropped, usage_a, usage_b = run(db, body, clock=clock)
    assert dropped == [A]
    assert usage_a["patients"] == 0 and usage_b["patients"] == 2
    with db.client() as client:
        assert not client.keys(f"pin:t:{A}:*")


def test_reads_keep_a_sandbox_alive(db: ClaimedDb) -> None:
    ids = IdFactory(MemoryIdSpace())
    clock = Clock()

    async def body(tenants: RedisTenants) -> list:
        p = patient(ids)
        await tenants.add_patient(A, p, search_key(p), 10)
        clock.now += TTL - 10
        await tenants.get_patient(A, p["id"])  # a read refreshes the last activity
        clock.now += 20
        return [await tenants.expire_idle(), await tenants.usage(A)]

    dropped, usage = run(db, body, clock=clock)
    assert dropped == [] and usage["patients"] == 1


def test_ids_never_repeat_across_workers_and_restarts(db: ClaimedDb) -> None:
    with db.client() as client:
        first, second = IdFactory(RedisIdSpace(client)), IdFactory(RedisIdSpace(client))
        issued = [f.new("patient") for f in (first, second) for _ in range(2000)]
        restarted = IdFactory(RedisIdSpace(client))  # a new process: a new incarnation
        issued += [restarted.new("patient") for _ in range(2000)]
    assert len(set(issued)) == len(issued) == 6000
    # The same key: one permutation, different counters (not a fresh random key each).
    assert first._key == second._key == restarted._key


def test_an_exhausted_incarnation_takes_the_next(db: ClaimedDb) -> None:
    class Tiny(IdFactory):
        LOCAL_BITS = 3

    with db.client() as client:
        factory = Tiny(RedisIdSpace(client))
        issued = [factory.new("x") for _ in range(40)]  # five incarnations of 8
    assert len(set(issued)) == 40


def test_an_unreachable_redis_stops_start_up_with_one_line() -> None:
    from pin_mock.server.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        open_state("redis://127.0.0.1:1/0")
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("cannot reach the state engine at redis://127.0.0.1:1/0")


def test_a_password_is_not_repeated_in_the_reason() -> None:
    from pin_mock.server.errors import ConfigError

    with pytest.raises(ConfigError) as refused:
        open_state("redis://user:s3cret@127.0.0.1:1/0")
    assert "s3cret" not in str(refused.value)


def test_the_memory_engine_is_not_shared() -> None:
    engine = open_state("memory://")
    assert isinstance(engine, MemoryEngine) and engine.url == "memory://"


@pytest.mark.parametrize("engine", ["memory", "redis"])
def test_a_create_sent_again_is_stored_once(engine: str, db: ClaimedDb) -> None:
    """A create Redis ran but whose answer was lost with its connection is sent once more
    (``engine.py``'s retry): the second is acknowledged, not stored again."""
    ids = IdFactory(MemoryIdSpace())
    mine = patient(ids)
    entry = {"id": ids.new("cd"), "patient_id": mine["id"], "recorded_at": "2024-01-01T00:00:00Z"}

    async def body() -> list:
        state = open_state("memory://" if engine == "memory" else db.url, sandbox_ttl=TTL)
        tenants = state.tenants
        try:
            return [
                await tenants.add_patient(A, mine, search_key(mine), 10),
                await tenants.add_patient(A, mine, search_key(mine), 10),
                await tenants.add_entry(A, entry, 10, seeded_patient=False),
                await tenants.add_entry(A, entry, 10, seeded_patient=False),
                await tenants.usage(A),
                await tenants.patient_and_entries(A, mine["id"], seeded=False),
                await tenants.page(A, 0, 10),
            ]
        finally:
            await state.aclose()

    *writes, usage, (_, entries), (page, total) = asyncio.run(body())
    assert all(w.stored for w in writes) and [w.used for w in writes] == [1, 1, 1, 1]
    assert usage == {"patients": 1, "entries": 1}
    assert entries == [entry] and page == [mine] and total == 1
