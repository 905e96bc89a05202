"""``RedisChaos``: the ``ChaosSettings`` port on Redis, shared by every worker.

Keys (outside the tenant's ``pin:t:{client}:``, so a reset or an idle expiry
of the client's data leaves its chaos alone; each expires after
``--sandbox-ttl`` without a new setting)::

    pin:chaos:{client}   hash   setting (JSON), version, n (covered requests counted)

**Cheap when off.** Every request asks whether its client has chaos; asking
Redis each time would add a round trip to every request. Each process keeps
what it last read for ``REFRESH`` seconds, and ``replace`` waits a little
longer than that before it answers: by then no process holds a view older than
the write, so when ``PUT /_sandbox/chaos`` answers, every worker applies it
(and after ``DELETE``, none does). A process that still holds a setting that
was replaced finds out in ``draw``, which counts only for the version it names.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import TYPE_CHECKING, Any

from pin_mock.server.state.chaos_port import StoredChaos
from pin_mock.server.state.redis.trips import Trips

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace

#: Seconds a process answers ``current`` from what it last read.
REFRESH = 0.25
#: ``replace`` answers this long after its write (REFRESH, plus room for a read in flight).
SETTLE = REFRESH + 0.1
#: Clients remembered per process before the memory is emptied (clients are few).
_CACHE_MAX = 10_000

# KEYS[1] the client's hash.  -> its fields and values, flat
_READ = "return redis.call('HGETALL', KEYS[1])"
# KEYS[1] the client's hash; ARGV[1] the version the caller decided on.
_DRAW = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return false end
return redis.call('HINCRBY', KEYS[1], 'n', 1)
"""


class RedisChaos:
    """Per-client chaos in Redis, read through a short per-process memory."""

    def __init__(self, space: Keyspace, ttl: int) -> None:
        self._space = space
        self._ttl = ttl
        # Both scripts carry the request's pending rate-limit count (``trips.py``): a
        # request that reads its chaos makes no extra round trip for that count.
        self._trips = space.trips or Trips(space.redis)
        self._seen: dict[str, tuple[float, StoredChaos | None]] = {}

    def _key(self, client_id: str) -> str:
        return self._space.key("chaos", client_id)

    def surely_off(self, client_id: str) -> bool:
        seen = self._seen.get(client_id)
        return seen is not None and seen[1] is None and time.monotonic() < seen[0]

    async def current(self, client_id: str, *, fresh: bool = False) -> StoredChaos | None:
        now = time.monotonic()
        seen = self._seen.get(client_id)
        if seen is not None and not fresh and now < seen[0]:
            return seen[1]
        flat = await self._trips.script(_READ, [self._key(client_id)], [])
        raw = dict(zip(flat[::2], flat[1::2], strict=True)) if flat else {}
        stored = (
            StoredChaos(json.loads(raw[b"setting"]), raw[b"version"].decode(), int(raw[b"n"]))
            if raw
            else None
        )
        if len(self._seen) >= _CACHE_MAX:
            self._seen.clear()
        self._seen[client_id] = (now + REFRESH, stored)
        return stored

    async def replace(self, client_id: str, setting: dict[str, Any] | None) -> None:
        key = self._key(client_id)
        async with self._space.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if setting is not None:
                version = secrets.token_hex(8)
                pipe.hset(key, mapping={"setting": json.dumps(setting), "version": version, "n": 0})
                pipe.expire(key, self._ttl)
            await pipe.execute()
        self._seen.pop(client_id, None)
        # Every other process's memory of the old setting is gone once this has passed.
        await asyncio.sleep(SETTLE)

    async def draw(self, client_id: str, version: str) -> int | None:
        n = await self._trips.script(_DRAW, [self._key(client_id)], [version])
        return None if n is None else int(n)
