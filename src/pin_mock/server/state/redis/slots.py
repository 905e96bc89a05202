"""Fair shares across workers: slots leased in Redis, and jobs parked waiting for one.

A job of a client needs one slot of its *group* (a webhook, say) and one of
its client, counted over every worker and replica: a slot is a lease (a member
of a sorted set scored by its end, the longest the work can take), so a worker
that dies holding one loses it in time. Webhook deliveries use it with 4 slots
per webhook and 8 per client (``background/webhooks/dispatcher.py``); report
jobs with a few per client. ``state/memory/slots.py`` keeps the same rules in
one process.

A job that finds its group's or its client's slots taken does not spin: it is
*parked* on a list of that group or client, and the worker ends the job. Each
job that ends wakes one parked job of its group and one of its client (moved
back to the stream); a sweep every second wakes what leases that ran out have
freed. So a client's dead receivers (or its burst of reports) hold their own
slots and park their own jobs, while another client's jobs find slots free.

Keys (``S`` = ``pin:slots:{kind}``, ``Q`` = the queue's stream)::

    S:{client}           ZSET  lease token -> lease end (the client's slots)
    S:{client}:{group}   ZSET  the same, of one group
    Q:parked:{client}[:{group}]  LIST  jobs waiting for a slot, oldest first
    Q:parked             HASH  parked list -> "{its lease set}|{slots}" (for the sweep)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pin_mock.server.state.ports import Job, Leftovers
from pin_mock.server.state.redis.keyspace import encode_job

if TYPE_CHECKING:
    from redis.asyncio import Redis

# KEYS: group leases, client leases, group parked, client parked, registry
# ARGV: now, lease end, token, group slots, client slots, job. 1: leased; 0: parked.
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
# KEYS: group leases, client leases, group parked, client parked, stream; ARGV: token.
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


class RedisSlots:
    """Leases of group and client slots, and the jobs parked waiting for one."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        stream: str,
        lease: float,
        *,
        group_slots: int,
        client_slots: int,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.stream = stream
        self.lease = lease
        self.limits = (group_slots, client_slots)
        self.registry = f"{stream}:parked"
        register = self.redis.register_script
        self._acquire, self._release = register(_ACQUIRE), register(_RELEASE)
        self._sweep = register(_SWEEP)

    def _keys(self, client_id: str, group: str) -> list[str]:
        return [
            f"{self.prefix}:{client_id}:{group}",
            f"{self.prefix}:{client_id}",
            f"{self.registry}:{client_id}:{group}",
            f"{self.registry}:{client_id}",
        ]

    async def acquire(self, client_id: str, group: str, token: str, job: Job) -> bool:
        """Lease a slot of the group and of the client; else park ``job`` (False)."""
        now = time.time()
        args = [now, now + self.lease, token, *self.limits, encode_job(job)]
        keys = [*self._keys(client_id, group), self.registry]
        return bool(await self._acquire(keys=keys, args=args))

    async def release(self, client_id: str, group: str, token: str) -> None:
        """Give the leases back and wake one parked job of the group and of the client."""
        keys = [*self._keys(client_id, group), self.stream]
        await self._release(keys=keys, args=[token])

    async def sweep(self) -> int:
        """Wake the parked jobs that free slots allow; how many."""
        return int(await self._sweep(keys=[self.registry, self.stream], args=[time.time()]))

    async def parked(self) -> bool:
        """Whether any job is parked."""
        return bool(await self.redis.hlen(self.registry))

    async def aclose(self) -> Leftovers:
        """Nothing is given up: parked jobs stay parked for the other workers."""
        return Leftovers()
