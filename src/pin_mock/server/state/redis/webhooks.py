"""Where webhooks, their delivery logs and pending deliveries live; one interface.

``MemoryWebhooks`` keeps them in the tenant (``Tenant.webhooks``,
``Tenant.deliveries``); the memory dispatcher counts its pending messages in
``lanes``. ``RedisWebhooks`` keeps them in Redis, shared by every worker, with
each step that must happen once done by one Lua script:

- ``create`` checks the ``webhooks`` quota and stores;
- ``enqueue`` counts an event's new messages pending and queues them; when
  the client is at ``quota_pending_deliveries`` it drops the oldest pending
  message of the client's webhook with the most pending (a dead receiver loses
  its own oldest retries first, as in memory) and names it, so it is logged
  ``not_delivered``. A message already pending is not queued again;
- ``record`` appends one attempt to the log only if the message is still at
  that attempt (a compare-and-set: a delivery run twice is logged once), then
  moves it to the next attempt and schedules that retry, or, if it was the
  last, takes it off the pending list.

The webhooks themselves are a ``RedisCollection`` named ``webhooks``
(``state/redis_collections.py``: ``create`` is its ``add``, and ``get``, ``all``,
``count``). Redis keys, all of the tenant (``T`` = ``pin:t:{client}:``), named
in ``T keys`` so a reset or an idle sandbox's expiry removes them
(``state/redis_tenants.py``)::

    T webhooks             HASH  webhook id -> JSON, with its secret (the reset counts it)
    T webhooks:order       ZSET  webhook id -> creation number
    T deliveries:{webhook} LIST  the webhook's delivery log, JSON entries, newest last
    T pending              HASH  "{event id}|{event type}|{webhook id}" -> the attempt due
    T pending:order        ZSET  the same members -> admission number
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pin_mock.server.domain.webhooks.deliveries import MAX_LOG
from pin_mock.server.state.ports import Then
from pin_mock.server.state.redis.collections import RedisCollection

if TYPE_CHECKING:
    from pin_mock.server.services import Services
    from pin_mock.server.state.engine import StateEngine


class MemoryWebhooks:
    """Webhooks and their logs in the process's tenants."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _tenant(self, client_id: str) -> Any:
        return self.services.store.tenant(client_id)

    async def create(self, client_id: str, webhook: dict[str, Any], cap: int) -> int | None:
        """Store ``webhook`` unless the client holds ``cap``; else how many it holds."""
        hooks = self._tenant(client_id).webhooks
        if len(hooks) + 1 > cap:
            return len(hooks)
        hooks[webhook["id"]] = webhook
        return None

    async def get(self, client_id: str, webhook_id: str) -> dict[str, Any] | None:
        return self._tenant(client_id).webhooks.get(webhook_id)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return list(self._tenant(client_id).webhooks.values())

    async def count(self, client_id: str) -> int:
        return len(self._tenant(client_id).webhooks)

    async def delete(self, client_id: str, webhook_id: str) -> bool:
        tenant = self._tenant(client_id)
        tenant.deliveries.pop(webhook_id, None)
        return tenant.webhooks.pop(webhook_id, None) is not None

    async def log(self, client_id: str, webhook_id: str) -> list[dict[str, Any]]:
        return list(self._tenant(client_id).deliveries.get(webhook_id, []))


# Every write script below names the keys it creates in ``T keys`` (KEYS[n-1]) and marks
# the tenant active in ``pin:tenants`` (KEYS[n]) with ARGV now and client id.

# KEYS: webhooks, order, log, keys; ARGV: id.
_DELETE = """
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('UNLINK', KEYS[3])
redis.call('SREM', KEYS[4], KEYS[3])
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
# KEYS: pending, pending:order, seq, keys, tenants, stream; ARGV: cap, now, client, then
# (member, job) pairs: each message is counted pending and queued on the stream in one step.
# Answers the members given up, each followed by the attempt it was at.
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
# KEYS: pending, pending:order, webhooks, log, keys, retry set; ARGV: member, attempt, entry,
# webhook id, log size, then for a retry its due time and job. Answers 1 if this call
# recorded the attempt: it is logged once, and its retry scheduled once, in the same step.
_RECORD = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
if ARGV[6] == nil then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1)
  redis.call('ZADD', KEYS[6], ARGV[6], ARGV[7])
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


class RedisWebhooks(RedisCollection):
    """Webhooks, delivery logs and pending deliveries in Redis."""

    def __init__(self, engine: StateEngine, clock: Callable[[], float]) -> None:
        super().__init__(engine, "webhooks", clock)
        register = self.redis.register_script
        self._delete, self._enqueue = register(_DELETE), register(_ENQUEUE)
        self._record, self._note = register(_RECORD), register(_NOTE)

    # -- webhooks ----------------------------------------------------------------

    async def create(self, client_id: str, webhook: dict[str, Any], cap: int) -> int | None:
        """Store ``webhook`` unless the client holds ``cap``; else how many it holds."""
        return await self.add(client_id, webhook, cap)

    async def delete(self, client_id: str, webhook_id: str) -> bool:
        tk = self.tk
        keys = [self.items_key(client_id), self.order_key(client_id)]
        keys += [tk(client_id, "deliveries", webhook_id), tk(client_id, "keys")]
        return bool(await self._delete(keys=keys, args=[webhook_id]))

    async def log(self, client_id: str, webhook_id: str) -> list[dict[str, Any]]:
        raws = await self.redis.lrange(self.tk(client_id, "deliveries", webhook_id), 0, -1)
        return [json.loads(raw) for raw in raws]

    # -- pending deliveries ------------------------------------------------------

    async def enqueue(
        self, client_id: str, jobs: list[tuple[str, str]], cap: int, stream: str
    ) -> list[tuple[str, int]]:
        """Count each ``(member, job)`` pending and queue it on ``stream``, in one step.

        A member is ``{event id}|{event type}|{webhook id}``. Past ``cap`` the oldest
        pending member of the client's busiest webhook is given up to make room (with
        ``cap`` 0 the new one is). Answers those given up, with the attempt each was at.
        """
        step = self.enqueue_step(client_id, jobs, cap, stream)
        return self.given_up(await self._enqueue(keys=step.keys, args=step.args))

    async def run(self, step: Then) -> Any:
        """Run an ``enqueue_step`` on its own (an event with no create to ride on)."""
        return await self._enqueue(keys=step.keys, args=step.args)

    def enqueue_step(
        self, client_id: str, jobs: list[tuple[str, str]], cap: int, stream: str
    ) -> Then:
        """``enqueue`` as a step a create runs in its own script (state/tenant_state.py)."""
        tk = self.tk
        keys = [tk(client_id, "pending"), tk(client_id, "pending", "order"), tk(client_id, "seq")]
        keys += [tk(client_id, "keys"), self.tenants, stream]
        args: list[Any] = [cap, self.clock(), client_id]
        for member, job in jobs:
            args += [member, job]
        return Then(_ENQUEUE, keys, args)

    @staticmethod
    def given_up(out: list[Any]) -> list[tuple[str, int]]:
        """The members an enqueue gave up, with the attempt each was at (its answer)."""
        return [(out[i].decode(), int(out[i + 1])) for i in range(0, len(out), 2)]

    async def attempt_due(self, client_id: str, member: str) -> int | None:
        """The attempt ``member`` is at, or None if it is no longer pending."""
        raw = await self.redis.hget(self.tk(client_id, "pending"), member)
        return None if raw is None else int(raw)

    async def due_and_webhook(
        self, client_id: str, member: str, webhook_id: str
    ) -> tuple[int | None, dict[str, Any] | None]:
        """``attempt_due`` and the webhook, in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.tk(client_id, "pending"), member)
            pipe.hget(self.items_key(client_id), webhook_id)
            due, raw = await pipe.execute()
        return (None if due is None else int(due)), (None if raw is None else json.loads(raw))

    async def pending(self, client_id: str) -> int:
        return int(await self.redis.hlen(self.tk(client_id, "pending")))

    async def release(self, client_id: str, member: str) -> None:
        pending, order = self.tk(client_id, "pending"), self.tk(client_id, "pending", "order")
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.hdel(pending, member).zrem(order, member).execute()

    async def record(
        self,
        client_id: str,
        webhook_id: str,
        member: str,
        attempt: int,
        entry: dict[str, Any],
        *,
        retry: tuple[str, float, str] | None,
    ) -> bool:
        """Log ``attempt`` of ``member`` once; True if this call recorded it.

        ``retry`` is ``(retry set, due time, member)`` to schedule the next attempt in
        the queue's retry set in the same step, or None if this attempt was the last.
        """
        tk = self.tk
        keys = [tk(client_id, "pending"), tk(client_id, "pending", "order")]
        keys += [self.items_key(client_id), tk(client_id, "deliveries", webhook_id)]
        keys += [tk(client_id, "keys"), retry[0] if retry else tk(client_id, "pending")]
        args: list[Any] = [member, attempt, json.dumps(entry), webhook_id, MAX_LOG]
        if retry is not None:
            args += [retry[1], retry[2]]
        return bool(await self._record(keys=keys, args=args))

    async def note(self, client_id: str, webhook_id: str, entry: dict[str, Any]) -> None:
        """Append ``entry`` (a delivery given up) to the log if the webhook exists."""
        tk = self.tk
        keys = [self.items_key(client_id), tk(client_id, "deliveries", webhook_id)]
        keys.append(tk(client_id, "keys"))
        await self._note(keys=keys, args=[webhook_id, json.dumps(entry), MAX_LOG])


def open_webhooks(services: Services) -> MemoryWebhooks | RedisWebhooks:
    """The webhook store of the sandbox's engine."""
    engine = getattr(services, "state", None)
    if engine is None or engine.redis is None:
        return MemoryWebhooks(services)
    return RedisWebhooks(engine, services.clock)
