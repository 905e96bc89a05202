"""Fair shares across workers: slots leased in Redis, and jobs parked waiting for one.

A job of a client needs one slot of its *group* (a webhook, say) and one of
its client, counted over every worker and replica: a slot is a lease (a member
of a sorted set scored by its end, the longest the work can take), so a worker
that dies holding one loses it in time. Webhook deliveries use it with 4 slots
per webhook and 8 per client (``background/webhooks/dispatcher.py``); report
jobs with a few per client. ``state/memory/slots.py`` keeps the same rules in
one process.

A job that finds its group's or its client's slots taken does not spin: it is
*parked* on a list of that group or client, and the worker ends the job. A
job parked on its client's list keeps its place in its group meanwhile (the
group counts it as *waiting*), so a group has at most its slots' worth of jobs
held or waiting for the client, and a job of a quiet group waits behind a few
jobs of each busy group, never behind all of them. Each job that ends wakes one
parked job of its client and then one of its group (moved back to the stream in
that order, so the client's longest waiter takes the freed slot); a
sweep every second wakes what leases that ran out have freed. So a client's
dead receivers (or its burst of reports) hold their own slots and park their
own jobs, while another client's jobs find slots free.

Keys (``S`` = ``pin:slots:{kind}``, ``Q`` = the queue's stream)::

    S:{client}           ZSET  lease token -> lease end (the client's slots)
    S:{client}:{group}   ZSET  the same, of one group
    S:{client}:waiting   HASH  group -> its jobs parked on the client's list
    Q:parked:{client}:{group}  LIST  jobs waiting for a slot of the group, oldest first
    Q:parked:{client}    LIST  "{group}\n{job}" waiting for a slot of the client
    Q:parked             HASH  parked list -> "{lease set}|{slots}|{waiting}|{group}"
                               (for the sweep; the group is empty for a client's list)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from pin_mock.server.state.ports import Job, Leftovers
from pin_mock.server.state.redis.keyspace import encode_job

if TYPE_CHECKING:
    from redis.asyncio import Redis

# KEYS: group leases, client leases, group parked, client parked, registry, waiting
# ARGV: now, lease end, token, group slots, client slots, job, group. 1: leased; 0: parked.
_ACQUIRE = """
for i = 1, 2 do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1]) end
local waiting = tonumber(redis.call('HGET', KEYS[6], ARGV[7]) or '0')
if redis.call('ZCARD', KEYS[1]) + waiting >= tonumber(ARGV[4]) then
  redis.call('RPUSH', KEYS[3], ARGV[6])
  redis.call('HSET', KEYS[5], KEYS[3], KEYS[1] .. '|' .. ARGV[4] .. '|' .. KEYS[6] .. '|' .. ARGV[7])
  return 0
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  redis.call('RPUSH', KEYS[4], ARGV[7] .. '\\n' .. ARGV[6])
  redis.call('HINCRBY', KEYS[6], ARGV[7], 1)
  redis.call('HSET', KEYS[5], KEYS[4], KEYS[2] .. '|' .. ARGV[5] .. '|' .. KEYS[6] .. '|')
  return 0
end
local expires = math.floor(tonumber(ARGV[2]) * 1000) + 1000
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('PEXPIREAT', KEYS[i], expires)
end
return 1
"""
# A job parked on a client's list leaves its group's waiting count as it is woken.
_UNWAIT = """
local function unwait(waiting, entry)
  local group, job = string.match(entry, '^([^\\n]*)\\n(.*)$')
  if redis.call('HINCRBY', waiting, group, -1) <= 0 then redis.call('HDEL', waiting, group) end
  return job
end
"""
# KEYS: group leases, client leases, group parked, client parked, stream, waiting; ARGV: token.
# The client's longest waiter goes on the stream first: it takes the client's freed slot.
_RELEASE = (
    _UNWAIT
    + """
for i = 1, 2 do redis.call('ZREM', KEYS[i], ARGV[1]) end
local entry = redis.call('LPOP', KEYS[4])
if entry then redis.call('XADD', KEYS[5], '*', 'job', unwait(KEYS[6], entry)) end
local job = redis.call('LPOP', KEYS[3])
if job then redis.call('XADD', KEYS[5], '*', 'job', job) end
return 1
"""
)
# KEYS: registry, stream; ARGV: now. Wakes what free slots allow (leases that ran out).
# The lists', lease sets' and waiting counts' names come from the registry (one Redis).
_SWEEP = (
    _UNWAIT
    + """
local entries = redis.call('HGETALL', KEYS[1])
local moved = 0
for i = 1, #entries, 2 do
  local list = entries[i]
  local lease, limit, waiting, group = string.match(entries[i + 1], '^(.-)|(%d+)|(.-)|(.*)$')
  redis.call('ZREMRANGEBYSCORE', lease, '-inf', ARGV[1])
  local free = tonumber(limit) - redis.call('ZCARD', lease)
  if group ~= '' then free = free - tonumber(redis.call('HGET', waiting, group) or '0') end
  while free > 0 do
    local item = redis.call('LPOP', list)
    if not item then break end
    if group == '' then item = unwait(waiting, item) end
    redis.call('XADD', KEYS[2], '*', 'job', item)
    free, moved = free - 1, moved + 1
  end
  if redis.call('LLEN', list) == 0 then redis.call('HDEL', KEYS[1], list) end
end
return moved
"""
)


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

    def _waiting(self, client_id: str) -> str:
        return f"{self.prefix}:{client_id}:waiting"

    async def acquire(self, client_id: str, group: str, token: str, job: Job) -> bool:
        """Lease a slot of the group and of the client; else park ``job`` (False)."""
        now = time.time()
        args = [now, now + self.lease, token, *self.limits, encode_job(job), group]
        keys = [*self._keys(client_id, group), self.registry, self._waiting(client_id)]
        return bool(await self._acquire(keys=keys, args=args))

    async def release(self, client_id: str, group: str, token: str) -> None:
        """Give the leases back and wake one parked job of the group and of the client."""
        keys = [*self._keys(client_id, group), self.stream, self._waiting(client_id)]
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
