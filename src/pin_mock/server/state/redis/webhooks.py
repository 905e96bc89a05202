"""Webhooks, their delivery logs and pending deliveries on Redis (the ``WebhookStore`` port).

Shared by every worker, each step that must happen once done by one Lua script
(``state/memory/webhooks.py`` keeps the same rules in this process):

- ``create`` checks the ``webhooks`` quota and stores;
- ``enqueue`` (or a create's own script, ``tenants.py``) counts an event's
  deliveries pending and queues them; when the client is at
  ``quota_pending_deliveries`` it gives up the oldest pending delivery of the
  client's webhook with the most pending (a dead receiver loses its own oldest
  retries first) and names it, so it is logged ``not_delivered``. A delivery
  already pending is not queued again;
- ``record`` appends one attempt to the log only if the delivery is still at
  that attempt (a compare-and-set: a delivery run twice is logged once), then
  moves it to the next attempt and schedules that retry on the delivery queue,
  or, if it was the last, takes it off the pending list.

The webhooks themselves are a ``RedisCollection`` named ``webhooks``
(``collections.py``). Redis keys, all of the tenant (``T`` = ``pin:t:{client}:``),
named in ``T keys`` or in ``tenants.FIXED_KEYS`` so a reset or an idle
sandbox's expiry removes them::

    T webhooks             HASH  webhook id -> JSON, with its secret (the reset counts it)
    T webhooks:order       ZSET  webhook id -> creation number
    T deliveries:{webhook} LIST  the webhook's delivery log, JSON entries, newest last
    T pending              HASH  "{event id}|{event type}|{webhook id}" -> the attempt due
    T pending:order        ZSET  the same members -> admission number
    T retries              HASH  the same members -> its scheduled retry (the reset cancels it)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pin_mock.server.state.ports import MAX_LOG, EventDeliveries, GivenUp, Job
from pin_mock.server.state.redis.collections import RedisCollection
from pin_mock.server.state.redis.keyspace import encode_job

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace
    from pin_mock.server.state.redis.queue import RedisQueue


# Every write script below names the keys it creates in ``T keys`` (KEYS[n-1]) and marks
# the tenant active in ``pin:tenants`` (KEYS[n]) with ARGV now and client id.

# KEYS: webhooks, order, log, keys; ARGV: id.
_DELETE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('UNLINK', KEYS[3])
redis.call('SREM', KEYS[4], KEYS[3])
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
# KEYS: pending, pending:order, seq, keys, tenants, stream, retries, retry set; ARGV: cap,
# now, client, then (member, job) pairs: each delivery is counted pending and queued on the
# stream in one step. Answers the members given up, each followed by the attempt it was at
# (a member given up takes its scheduled retry with it).
_ENQUEUE = """
local cap = tonumber(ARGV[1])
local out = {}
for i = 4, #ARGV, 2 do
  local member = ARGV[i]
  if cap < 1 then
    out[#out + 1] = member
    out[#out + 1] = 1
  else
    if redis.call('HLEN', KEYS[1]) >= cap then
      local counts, oldest, busiest, most = {}, {}, nil, 0
      for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
        local hook = string.match(m, '|([^|]*)$') or ''
        counts[hook] = (counts[hook] or 0) + 1
        if not oldest[hook] then oldest[hook] = m end
        if counts[hook] > most then most, busiest = counts[hook], hook end
      end
      if busiest then
        local victim = oldest[busiest]
        out[#out + 1] = victim
        out[#out + 1] = tonumber(redis.call('HGET', KEYS[1], victim))
        redis.call('HDEL', KEYS[1], victim)
        redis.call('ZREM', KEYS[2], victim)
        local scheduled = redis.call('HGET', KEYS[7], victim)
        if scheduled then
          redis.call('ZREM', KEYS[8], scheduled)
          redis.call('HDEL', KEYS[7], victim)
        end
      end
    end
    if redis.call('HSETNX', KEYS[1], member, 1) == 1 then  -- an event queued again: once
      redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), member)
      redis.call('XADD', KEYS[6], '*', 'job', ARGV[i + 1])
    end
  end
end
redis.call('SADD', KEYS[4], KEYS[1], KEYS[2], KEYS[3])
redis.call('ZADD', KEYS[5], ARGV[2], ARGV[3])
return out
"""
# KEYS: pending, pending:order, webhooks, log, keys, retry set, retries; ARGV: member,
# attempt, entry, webhook id, log size, then for a retry its due time and job. Answers 1 if
# this call recorded the attempt: it is logged once, and its retry scheduled once, in the
# same step. ``retries`` names each scheduled retry, so a reset can cancel it.
_RECORD = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[6] == nil then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HDEL', KEYS[7], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1)
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[7])
  redis.call('HSET', KEYS[7], ARGV[1], ARGV[7])
end
if redis.call('HEXISTS', KEYS[3], ARGV[4]) == 1 then
  redis.call('RPUSH', KEYS[4], ARGV[3])
  redis.call('LTRIM', KEYS[4], -tonumber(ARGV[5]), -1)
  redis.call('SADD', KEYS[5], KEYS[4])
end
return 1
"""
# KEYS: webhooks, log, keys; ARGV: webhook id, entry, log size. A delivery given up.
_NOTE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('SADD', KEYS[3], KEYS[2])
return 1
"""


class RedisWebhooks:
    """``WebhookStore`` in Redis; deliveries and their retries go to ``queue``."""

    def __init__(self, keyspace: Keyspace, queue: RedisQueue) -> None:
        self.hooks = RedisCollection(keyspace, "webhooks")
        self.redis = keyspace.redis
        self.tk = keyspace.tenant_key
        self.tenants = keyspace.key("tenants")
        self.clock = keyspace.clock
        self.queue = queue
        register = self.redis.register_script
        self._delete, self._enqueue = register(_DELETE), register(_ENQUEUE)
        self._record, self._note = register(_RECORD), register(_NOTE)

    # -- webhooks ----------------------------------------------------------------

    async def create(self, client_id: str, webhook: dict[str, Any], cap: int) -> int | None:
        return await self.hooks.add(client_id, webhook, cap)

    async def get(self, client_id: str, webhook_id: str) -> dict[str, Any] | None:
        return await self.hooks.get(client_id, webhook_id)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return await self.hooks.all(client_id)

    async def delete(self, client_id: str, webhook_id: str) -> bool:
        tk = self.tk
        keys = [self.hooks.items_key(client_id), self.hooks.order_key(client_id)]
        keys += [tk(client_id, "deliveries", webhook_id), tk(client_id, "keys")]
        return bool(await self._delete(keys=keys, args=[webhook_id]))

    async def log(self, client_id: str, webhook_id: str) -> list[dict[str, Any]]:
        raws = await self.redis.lrange(self.tk(client_id, "deliveries", webhook_id), 0, -1)
        return [json.loads(raw) for raw in raws]

    # -- pending deliveries ------------------------------------------------------

    async def enqueue(self, deliveries: EventDeliveries) -> None:
        _source, keys, args = self.enqueue_script(deliveries)
        self.given_up(deliveries, await self._enqueue(keys=keys, args=args))

    def enqueue_script(self, deliveries: EventDeliveries) -> tuple[str, list[str], list[Any]]:
        """``enqueue`` as ``(source, keys, args)``, for a create to run in its own script."""
        tk, client_id = self.tk, deliveries.client_id
        keys = [tk(client_id, "pending"), tk(client_id, "pending", "order"), tk(client_id, "seq")]
        keys += [tk(client_id, "keys"), self.tenants, self.queue.stream]
        keys += [tk(client_id, "retries"), self.queue.retries]
        args: list[Any] = [deliveries.cap, self.clock(), client_id]
        for member, job in deliveries.jobs:
            args += [member, encode_job(job)]
        return _ENQUEUE, keys, args

    @staticmethod
    def given_up(deliveries: EventDeliveries, out: list[Any]) -> None:
        """Read an enqueue's answer into ``deliveries.given_up``."""
        deliveries.given_up = [
            GivenUp(out[i].decode(), int(out[i + 1])) for i in range(0, len(out), 2)
        ]

    async def due_and_webhook(
        self, client_id: str, member: str, webhook_id: str
    ) -> tuple[int | None, dict[str, Any] | None]:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.tk(client_id, "pending"), member)
            pipe.hget(self.hooks.items_key(client_id), webhook_id)
            due, raw = await pipe.execute()
        return (None if due is None else int(due)), (None if raw is None else json.loads(raw))

    async def pending(self, client_id: str) -> int:
        return int(await self.redis.hlen(self.tk(client_id, "pending")))

    async def release(self, client_id: str, member: str) -> None:
        tk = self.tk
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(tk(client_id, "pending"), member).zrem(
                tk(client_id, "pending", "order"), member
            )
            await pipe.hdel(tk(client_id, "retries"), member).execute()

    async def record(
        self,
        client_id: str,
        webhook_id: str,
        member: str,
        attempt: int,
        entry: dict[str, Any],
        *,
        retry: tuple[float, Job] | None,
    ) -> bool:
        tk = self.tk
        keys = [tk(client_id, "pending"), tk(client_id, "pending", "order")]
        keys += [self.hooks.items_key(client_id), tk(client_id, "deliveries", webhook_id)]
        keys += [tk(client_id, "keys"), self.queue.retries, tk(client_id, "retries")]
        args: list[Any] = [member, attempt, json.dumps(entry), webhook_id, MAX_LOG]
        if retry is not None:
            args += [self.queue.clock() + retry[0], self.queue.run_later(retry[1])]
        return bool(await self._record(keys=keys, args=args))

    async def note(self, client_id: str, webhook_id: str, entry: dict[str, Any]) -> None:
        tk = self.tk
        keys = [self.hooks.items_key(client_id), tk(client_id, "deliveries", webhook_id)]
        keys.append(tk(client_id, "keys"))
        await self._note(keys=keys, args=[webhook_id, json.dumps(entry), MAX_LOG])
