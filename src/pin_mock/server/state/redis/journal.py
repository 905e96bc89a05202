"""The request journal on Redis: a capped stream per client, shared by every worker.

Keys (not the tenant's: a reset of the sandbox's data clears the journal through
``clear``, and an idle journal expires by itself)::

    pin:journal:{client}   STREAM  one entry per exchange (field ``e``: the entry, JSON),
                                   at most ``size`` (XADD MAXLEN), expiring ``ttl`` s
                                   after the last write
    pin:journal-clients    ZSET    client -> time of its last write; past ``clients``
                                   members the least recently written journals are dropped

Cheap on the request path: ``append`` only keeps the entry back; one script
writes everything kept back ``FLUSH_DELAY`` later (formatted and encoded then), so a burst of
requests costs one round trip, not one each. A reader on this worker flushes
first (it sees its own requests at once); another worker's requests show up
within ``FLUSH_DELAY`` plus a round trip. If Redis cannot be reached the batch is
dropped with one warning: the journal never fails a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import orjson

from pin_mock.server.state.journal_port import Entry, JournalLimits

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("pin_mock.journal")

#: How long an entry may wait before it is written (seconds).
FLUSH_DELAY = 0.02
#: How often a follower looks for new entries (seconds).
POLL = 0.2
#: Entries kept back at most (Redis slow or gone): past it the oldest are dropped.
MAX_PENDING = 10_000

# KEYS: the clients' set. ARGV: prefix, size, clients, ttl (ms), now (ms), then pairs
# (client, entry JSON). Appends each entry, trims, refreshes the TTL and drops the least
# recently written journals past the overall bound.
_APPEND = """
local prefix, size, most, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
for i = 6, #ARGV, 2 do
  local key = prefix .. ARGV[i]
  redis.call('XADD', key, 'MAXLEN', size, '*', 'e', ARGV[i + 1])
  redis.call('PEXPIRE', key, ttl)
  redis.call('ZADD', KEYS[1], now, ARGV[i])
end
local extra = redis.call('ZCARD', KEYS[1]) - most
if extra > 0 then
  for _, client in ipairs(redis.call('ZRANGE', KEYS[1], 0, extra - 1)) do
    redis.call('DEL', prefix .. client)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1)
end
return extra
"""


class RedisJournal:
    """The ``JournalStore`` port on Redis."""

    def __init__(self, redis: Redis, namespace: str, limits: JournalLimits, clock: Any) -> None:
        self.redis = redis
        self.limits = limits
        self.clock = clock
        self.prefix = f"{namespace}:journal:"
        self.clients_key = f"{namespace}:journal-clients"
        self._append = redis.register_script(_APPEND)
        self._pending: list[tuple[str, Entry]] = []
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def append(self, client_id: str, entry: Entry) -> None:
        if len(self._pending) >= MAX_PENDING:
            del self._pending[0]
        self._pending.append((client_id, entry))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:  # one batch at a time: entries stay in order
            while self._pending:
                batch, self._pending = self._pending[:500], self._pending[500:]
                args: list[Any] = [
                    self.prefix,
                    self.limits.size,
                    self.limits.clients,
                    self.limits.ttl * 1000,
                    int(self.clock() * 1000),
                ]
                for client_id, entry in batch:
                    args += [client_id, orjson.dumps(entry.as_dict())]
                try:
                    await self._append(keys=[self.clients_key], args=args)
                except Exception as exc:  # Redis lost: the journal never fails a request
                    log.warning("journal: %d entries not written: %s", len(batch), exc)

    async def entries(self, client_id: str, after: str | None = None) -> list[dict[str, Any]]:
        await self.flush()
        start = f"({after}" if after else "-"
        found = await self.redis.xrange(self.prefix + client_id, start, "+")
        return [
            {"id": entry_id.decode(), **orjson.loads(fields[b"e"])} for entry_id, fields in found
        ]

    async def wait(self, client_id: str, timeout: float) -> None:
        # Polling keeps no connection of the shared pool blocked while a follower waits.
        await asyncio.sleep(min(timeout, POLL))

    async def clear(self, client_id: str) -> None:
        await self.flush()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.prefix + client_id)
            pipe.zrem(self.clients_key, client_id)
            await pipe.execute()

    async def aclose(self) -> None:
        if self._task is not None and not self._task.done():
            with contextlib.suppress(Exception):
                await self._task  # a batch under way is written, not lost
        await self.flush()
