"""A client's objects of one kind on Redis: JSON by id, listed in creation order.

Reports (``reports.py``) and webhooks (``webhooks.py``) are kept
this way; each store subclasses ``RedisCollection`` with its ``name`` and adds
what is its own. Keys, all of the tenant (``T`` = ``pin:t:{client}:``)::

    T {name}         HASH  id -> the object, JSON (the reset counts it)
    T {name}:order   ZSET  id -> creation number (the order of ``all``)
    T seq            a counter numbering creations (shared by every kind)

``add`` checks the quota and stores in one script, names the keys it creates in
``T keys`` and marks the tenant active in ``pin:tenants``, so a reset or an idle
sandbox's expiry (``tenants.py``) removes them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pin_mock.server.state.redis.trips import Trips

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace

# Store an object unless the tenant holds the quota (and queue a job in the same step).
# KEYS: items, order, seq, keys, tenants[, stream]; ARGV: id, json, cap, now, client id[, job].
# Answers -1 when stored, else the number held.
_ADD = """
local held = redis.call('HLEN', KEYS[1])
if held + 1 > tonumber(ARGV[3]) then return held end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
redis.call('SADD', KEYS[4], KEYS[2], KEYS[3])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
if KEYS[6] then redis.call('XADD', KEYS[6], '*', 'job', ARGV[6]) end
return -1
"""

# Every object, oldest first, in one trip (a request's rate-limit count rides on it).
# KEYS: items, order.  -> the objects' JSON (nil for an id without one)
_ALL = """
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
local out = {}
for i = 1, #ids, 1000 do
  local some = redis.call('HMGET', KEYS[1], unpack(ids, i, math.min(i + 999, #ids)))
  for _, raw in ipairs(some) do out[#out + 1] = raw end
end
return out
"""


class RedisCollection:
    """The ``name`` objects of every client, shared by every worker and replica."""

    def __init__(self, keyspace: Keyspace, name: str) -> None:
        self.redis = keyspace.redis
        self.tk = keyspace.tenant_key
        self.tenants = keyspace.key("tenants")
        self.name = name
        self.clock = keyspace.clock
        self._add_script = self.redis.register_script(_ADD)
        self.trips = keyspace.trips or Trips(self.redis)

    def items_key(self, client_id: str) -> str:
        """``T {name}``: the objects by id."""
        return self.tk(client_id, self.name)

    def order_key(self, client_id: str) -> str:
        """``T {name}:order``: their creation order."""
        return self.tk(client_id, self.name, "order")

    async def add(
        self,
        client_id: str,
        item: dict[str, Any],
        cap: int,
        queue: tuple[str, str] | None = None,
    ) -> int | None:
        """Store ``item`` unless the client holds ``cap``; else how many it holds.

        ``queue`` is ``(stream, job)``: the job is queued in the same step.
        """
        keys = [self.items_key(client_id), self.order_key(client_id), self.tk(client_id, "seq")]
        keys += [self.tk(client_id, "keys"), self.tenants]
        args = [item["id"], json.dumps(item), cap, self.clock(), client_id]
        if queue is not None:
            keys.append(queue[0])
            args.append(queue[1])
        held = int(await self._add_script(keys=keys, args=args))
        return None if held < 0 else held

    async def get(self, client_id: str, item_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.items_key(client_id), item_id)
        return None if raw is None else json.loads(raw)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        """Every object of the client, oldest first."""
        keys = [self.items_key(client_id), self.order_key(client_id)]
        raws = await self.trips.script(_ALL, keys, [])
        return [json.loads(raw) for raw in raws if raw is not None]

    async def count(self, client_id: str) -> int:
        return int(await self.redis.hlen(self.items_key(client_id)))
