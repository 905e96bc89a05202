"""Each client's clock on Redis (the ``ClockStore`` port), shared by every worker.

Keys, all of the tenant (``T`` = ``pin:t:{client}:``, in ``tenants.FIXED_KEYS``,
so a reset or an idle sandbox's expiry removes them)::

    T clock            HASH  offset, frozen_at (absent: running), version
    T held:<kind>      ZSET  jobs waiting for a frozen clock -> their due time
    T later:reports    HASH  report id -> its job scheduled on the report retry set
    T retries          HASH  (``webhooks.py``) delivery -> its job on the delivery retry set

Every move is one script (two workers advancing at once both count) that bumps
``version``, then is announced to every worker (``clock_cache.py``: each keeps
the clocks it read until it hears of a move); ``later`` compares the version the job saw in the same script, so
a job that read the clock just before a move is queued again at once rather
than held past it. ``wake`` moves the client's held and scheduled jobs to
their stream in one script, in the order of their due times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pin_mock.server.state.clock_port import ClockState
from pin_mock.server.state.redis.clock_cache import ClockCache
from pin_mock.server.state.redis.keyspace import encode_job

if TYPE_CHECKING:
    from collections.abc import Callable

    from pin_mock.server.state.redis.keyspace import Keyspace
    from pin_mock.server.state.redis.queue import RedisQueue

#: The tenant's keys that name its scheduled jobs, by queue.
TRACKED = {"reports": "later:reports", "deliveries": "retries"}
#: Tenant keys of this module (reset and expired with the tenant).
KEYS = ["clock", "held:reports", "held:deliveries", "later:reports"]

# KEYS: clock; ARGV: freeze|advance|resume, seconds or time ('' = now), the real time.
# -> {offset, frozen_at ('' = running), version}
_MOVE = """
local off = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
local frozen = redis.call('HGET', KEYS[1], 'frozen_at')
if frozen then frozen = tonumber(frozen) end
local real = tonumber(ARGV[3])
if ARGV[1] == 'freeze' then
  if ARGV[2] ~= '' then frozen = tonumber(ARGV[2]) elseif not frozen then frozen = real + off end
elseif ARGV[1] == 'advance' then
  if frozen then frozen = frozen + tonumber(ARGV[2]) else off = off + tonumber(ARGV[2]) end
elseif frozen then
  off = frozen - real
  frozen = nil
else
  return {string.format('%.17g', off), '', redis.call('HGET', KEYS[1], 'version') or '0'}
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'offset', string.format('%.17g', off))
if frozen then
  redis.call('HSET', KEYS[1], 'frozen_at', string.format('%.17g', frozen))
  return {string.format('%.17g', off), string.format('%.17g', frozen), version}
end
redis.call('HDEL', KEYS[1], 'frozen_at')
return {string.format('%.17g', off), '', version}
"""
# KEYS: clock, held, tracked, retry set, stream; ARGV: version seen, ident, job, due,
# delay ('' = hold), the real time. -> 0 queued now (the clock moved), 1 held, 2 scheduled
_LATER = """
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then
  redis.call('XADD', KEYS[5], '*', 'job', ARGV[3])
  return 0
end
if ARGV[5] == '' then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  return 1
end
local old = redis.call('HGET', KEYS[3], ARGV[2])
if old then redis.call('ZREM', KEYS[4], old) end
redis.call('ZADD', KEYS[4], tonumber(ARGV[6]) + tonumber(ARGV[5]), ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return 2
"""
# KEYS: held, tracked, retry set, stream. -> how many jobs were queued, by due time.
_WAKE = """
local due = {}
local held = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #held, 2 do due[#due + 1] = {tonumber(held[i + 1]), held[i]} end
redis.call('DEL', KEYS[1])
for _, member in ipairs(redis.call('HVALS', KEYS[2])) do
  if redis.call('ZREM', KEYS[3], member) == 1 then
    local ok, job = pcall(cjson.decode, member)
    local at = 0
    if ok and type(job) == 'table' and type(job['due']) == 'number' then at = job['due'] end
    due[#due + 1] = {at, member}
  end
end
table.sort(due, function(a, b) return a[1] < b[1] end)
for _, item in ipairs(due) do redis.call('XADD', KEYS[4], '*', 'job', item[2]) end
return #due
"""


class RedisClocks:
    """``ClockStore`` in Redis; ``queues`` by kind (their streams and retry sets)."""

    def __init__(self, keyspace: Keyspace, queues: dict[str, RedisQueue]) -> None:
        self.redis = keyspace.redis
        self.tk = keyspace.tenant_key
        self.queues = queues
        self._move = self.redis.register_script(_MOVE)
        self._later = self.redis.register_script(_LATER)
        self._wake = self.redis.register_script(_WAKE)
        # PUBLISH reaches every database of the server: the channel names this one.
        db = self.redis.connection_pool.connection_kwargs.get("db", 0)
        self.cache = ClockCache(self.redis, f"{keyspace.key('clock-moves')}:{db}", self._load)

    async def read(self, client_id: str) -> ClockState:
        return await self.cache.read(client_id)

    async def dropped(self, client_id: str) -> None:
        await self.cache.moved(client_id)  # the reset removed the key with the tenant's

    def on_moves(self, heard: Callable[[str], None]) -> None:
        self.cache.heard = heard

    async def aclose(self) -> None:
        await self.cache.aclose()

    async def _load(self, client_id: str) -> ClockState:
        offset, frozen, version = await self.redis.hmget(
            self.tk(client_id, "clock"), ["offset", "frozen_at", "version"]
        )
        return ClockState(
            float(offset or 0.0), None if frozen is None else float(frozen), int(version or 0)
        )

    async def _moved(self, client_id: str, op: str, value: str, real: float) -> ClockState:
        offset, frozen, version = await self._move(
            keys=[self.tk(client_id, "clock")], args=[op, value, repr(real)]
        )
        await self.cache.moved(client_id)  # every worker reads the moved clock from now on
        return ClockState(float(offset), float(frozen) if frozen else None, int(version))

    async def freeze(self, client_id: str, at: float | None, real: float) -> ClockState:
        return await self._moved(client_id, "freeze", "" if at is None else repr(at), real)

    async def advance(self, client_id: str, seconds: float, real: float) -> ClockState:
        return await self._moved(client_id, "advance", repr(seconds), real)

    async def resume(self, client_id: str, real: float) -> ClockState:
        return await self._moved(client_id, "resume", "", real)

    async def later(
        self, kind: str, job: dict[str, Any], ident: str, delay: float | None, seen: int
    ) -> None:
        client_id, queue = job["client_id"], self.queues[kind]
        # The real time here: the retry set is scored on the real clock (``queue.clock``).
        await self._later(
            keys=[
                self.tk(client_id, "clock"),
                self.tk(client_id, f"held:{kind}"),
                self.tk(client_id, TRACKED[kind]),
                queue.retries,
                queue.stream,
            ],
            args=[
                str(seen),
                ident,
                queue.run_later(job) if delay is not None else encode_job(job),
                repr(float(job.get("due") or 0.0)),
                "" if delay is None else repr(delay),
                repr(queue.clock()),
            ],
        )

    async def wake(self, client_id: str) -> int:
        woken = 0
        for kind, queue in self.queues.items():
            woken += int(
                await self._wake(
                    keys=[
                        self.tk(client_id, f"held:{kind}"),
                        self.tk(client_id, TRACKED[kind]),
                        queue.retries,
                        queue.stream,
                    ]
                )
            )
        return woken
