"""Fair delivery across workers: the per-webhook and per-client slots as leases in Redis.

The same slots as ``lanes`` in memory (``WEBHOOK_SLOTS`` per webhook, then
``TENANT_SLOTS`` per client), counted over every worker and replica: a slot is
a lease (a member of a sorted set scored by its end, which is the longest an
attempt can take), so a worker that dies holding one loses it in time.

A message that finds its webhook's or its client's slots taken does not spin:
it is *parked* on a list of that webhook or client, and the worker ends the
job. Each attempt that ends wakes one parked message of its webhook and one of
its client (moved back to the stream); a sweep every second wakes what leases
that ran out have freed. So a client's dead receivers hold their own slots and
park their own messages, while another client's messages find their slots free.

Keys (``K`` = ``pin:q:deliveries``)::

    pin:slots:{client}            ZSET  lease token -> lease end (the client's slots)
    pin:slots:{client}:{webhook}  ZSET  the same, of one webhook
    K:parked:{client}[:{webhook}] LIST  messages waiting for a slot, oldest first
    K:parked                      HASH  parked list -> "{its lease set}|{slots}" (the sweep's)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pin_mock.server.webhooks.lanes import TENANT_SLOTS, WEBHOOK_SLOTS

if TYPE_CHECKING:
    from pin_mock.server.state.engine import StateEngine

# KEYS: webhook leases, client leases, webhook parked, client parked, registry
# ARGV: now, lease end, token, webhook slots, client slots, job. 1: leased; 0: parked.
_ACQUIRE = """
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1]) end
for i = 1, 2 do
  local limit = tonumber(ARGV[3 + i])
  if redis.call('ZCARD', KEYS[i]) >= limit then
    redis.call('RPUSH', KEYS[2 + i], ARGV[6])
    redis.call('HSET', KEYS[5], KEYS[2 + i], KEYS[i] .. '|' .. limit)
    return 0
  end
end
local expires = math.floor(tonumber(ARGV[2]) * 1000) + 1000
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('PEXPIREAT', KEYS[i], expires)
end
return 1
"""
# KEYS: webhook leases, client leases, webhook parked, client parked, stream; ARGV: token.
_RELEASE = """
for i = 1, 2 do redis.call('ZREM', KEYS[i], ARGV[1]) end
for i = 3, 4 do
  local job = redis.call('LPOP', KEYS[i])
  if job then redis.call('XADD', KEYS[5], '*', 'job', job) end
end
return 1
"""
# KEYS: registry, stream; ARGV: now. Wakes what free slots allow (leases that ran out).
# The lists' and lease sets' names come from the registry (one Redis, not a cluster).
_SWEEP = """
local entries = redis.call('HGETALL', KEYS[1])
local moved = 0
for i = 1, #entries, 2 do
  local list = entries[i]
  local lease, limit = string.match(entries[i + 1], '^(.*)|(%d+)$')
  redis.call('ZREMRANGEBYSCORE', lease, '-inf', ARGV[1])
  local free = tonumber(limit) - redis.call('ZCARD', lease)
  while free > 0 do
    local job = redis.call('LPOP', list)
    if not job then break end
    redis.call('XADD', KEYS[2], '*', 'job', job)
    free, moved = free - 1, moved + 1
  end
  if redis.call('LLEN', list) == 0 then redis.call('HDEL', KEYS[1], list) end
end
return moved
"""


class SharedSlots:
    """Leases of webhook and client slots, and the messages parked waiting for one."""

    def __init__(self, engine: StateEngine, stream: str, lease: float) -> None:
        assert engine.redis is not None
        self.redis = engine.redis
        self.key = engine.key
        self.stream = stream
        self.lease = lease
        self.registry = f"{stream}:parked"
        register = self.redis.register_script
        self._acquire, self._release = register(_ACQUIRE), register(_RELEASE)
        self._sweep = register(_SWEEP)

    def _keys(self, client_id: str, webhook_id: str) -> list[str]:
        return [
            self.key("slots", client_id, webhook_id),
            self.key("slots", client_id),
            f"{self.registry}:{client_id}:{webhook_id}",
            f"{self.registry}:{client_id}",
        ]

    async def acquire(self, client_id: str, webhook_id: str, token: str, job: str) -> bool:
        """Lease a slot of the webhook and of the client; else park ``job`` (False)."""
        now = time.time()
        args = [now, now + self.lease, token, WEBHOOK_SLOTS, TENANT_SLOTS, job]
        keys = [*self._keys(client_id, webhook_id), self.registry]
        return bool(await self._acquire(keys=keys, args=args))

    async def release(self, client_id: str, webhook_id: str, token: str) -> None:
        """Give the leases back and wake one parked message of the webhook and of the client."""
        keys = [*self._keys(client_id, webhook_id), self.stream]
        await self._release(keys=keys, args=[token])

    async def sweep(self) -> int:
        """Wake the parked messages that free slots allow; how many."""
        return int(await self._sweep(keys=[self.registry, self.stream], args=[time.time()]))

    async def parked(self) -> bool:
        """Whether any message is parked."""
        return bool(await self.redis.hlen(self.registry))
