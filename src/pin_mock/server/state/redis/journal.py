"""The request journal on Redis: a capped stream per client, shared by every worker.

Keys (not the tenant's: a reset of the sandbox's data clears the journal through
``clear``, and an idle journal expires by itself)::

    pin:journal:{client}          STREAM  one entry per exchange (field ``e``: the entry,
                                          JSON), at most ``size`` (XADD MAXLEN), expiring
                                          ``ttl`` s after the last write
    pin:journal-clients           ZSET    client -> time of its last write; past ``clients``
                                          members the least recently written are dropped
    pin:journal-read:{client}     STRING  someone read this journal in the last READ_TTL s
    pin:journal-cleared:{client}  STRING  when it was last cleared (ms): older entries that
                                          a worker still holds are never written

Cheap when nobody reads it: a worker keeps the entries of a client nobody reads
in its own memory, unformatted (the last ``size`` per client, the last
``clients`` clients), and writes nothing. Reading a journal marks it read; from
then on (for ``READ_TTL`` s after the last read) every worker writes that
client's entries, the ones it held included: the reading worker at once, the
others within ``CHECK_EVERY`` (they look which clients are read while they hold
entries). Writing is batched too: one script writes what ``FLUSH_DELAY`` gathered,
formatted and redacted then. So a reader sees its own worker's exchanges at once
and the other workers' within a fraction of a second (the first read of a
journal: those made before it, too). If Redis cannot be reached a batch is
dropped with one warning: the journal never fails a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
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
#: A client's journal is written to Redis while it was read in the last READ_TTL seconds.
READ_TTL = 600
#: How often a worker looks which of its clients are being read (seconds).
CHECK_EVERY = 0.25

# KEYS: the clients' set. ARGV: prefix, size, clients, ttl (ms), now (ms), the cleared
# prefix, then triples (client, when the entry was recorded in ms, entry JSON). Appends each entry
# (unless its journal was cleared after it), trims, refreshes the TTL and drops the least
# recently written journals past the overall bound.
_APPEND = """
local prefix, size, most, ttl, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local cleared = ARGV[6]
for i = 7, #ARGV, 3 do
  local cut = redis.call('GET', cleared .. ARGV[i])
  if not cut or tonumber(ARGV[i + 1]) >= tonumber(cut) then
    local key = prefix .. ARGV[i]
    redis.call('XADD', key, 'MAXLEN', size, '*', 'e', ARGV[i + 2])
    redis.call('PEXPIRE', key, ttl)
    redis.call('ZADD', KEYS[1], now, ARGV[i])
  end
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
        self.read_prefix = f"{namespace}:journal-read:"
        self.cleared_prefix = f"{namespace}:journal-cleared:"
        self._append = redis.register_script(_APPEND)
        # Each entry with when it was recorded (ms): a journal cleared later drops it.
        self._pending: list[tuple[str, Entry, int]] = []
        #: Entries of clients nobody reads, kept back here (bounded like the journal).
        self._local: OrderedDict[str, deque[tuple[Entry, int]]] = OrderedDict()
        #: Clients someone read lately (``read_prefix`` keys): their entries are written.
        self._watched: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._checker: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def append(self, client_id: str, entry: Entry) -> None:
        recorded = int(self.clock() * 1000)
        if client_id in self._watched:
            self._keep(client_id, entry, recorded)
            return
        local = self._local.get(client_id)
        if local is None:
            local = self._local[client_id] = deque(maxlen=self.limits.size)
            while len(self._local) > self.limits.clients:
                self._local.popitem(last=False)
        local.append((entry, recorded))
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_loop())

    def _keep(self, client_id: str, entry: Entry, recorded: int) -> None:
        if len(self._pending) >= MAX_PENDING:
            del self._pending[0]
        self._pending.append((client_id, entry, recorded))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        await self.flush()

    async def _check_loop(self) -> None:
        # Runs while this worker holds entries or writes some client's: a worker learns
        # within CHECK_EVERY that a client is being read through another worker.
        while self._local or self._watched:
            await asyncio.sleep(CHECK_EVERY)
            try:
                await self._check()
            except Exception as exc:  # Redis lost: try again at the next turn
                log.warning("journal: could not check for readers: %s", exc)

    async def _check(self) -> None:
        clients = sorted(set(self._local) | self._watched)
        if not clients:
            return
        flags = await self.redis.mget([self.read_prefix + c for c in clients])
        self._watched = {client for client, flag in zip(clients, flags, strict=True) if flag}
        for client_id in self._watched & set(self._local):
            for entry, recorded in self._local.pop(client_id):
                self._keep(client_id, entry, recorded)
        if self._pending:
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
                    self.cleared_prefix,
                ]
                for client_id, entry, recorded in batch:
                    args += [client_id, recorded, orjson.dumps(entry.as_dict())]
                try:
                    await self._append(keys=[self.clients_key], args=args)
                except Exception as exc:  # Redis lost: the journal never fails a request
                    log.warning("journal: %d entries not written: %s", len(batch), exc)

    async def _read(self, client_id: str) -> None:
        """Say the client is read (every worker writes its entries from now on) and write
        this worker's own."""
        await self.redis.set(self.read_prefix + client_id, b"1", ex=READ_TTL)
        self._watched.add(client_id)
        for entry, recorded in self._local.pop(client_id, ()):
            self._keep(client_id, entry, recorded)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_loop())
        await self.flush()

    async def entries(self, client_id: str, after: str | None = None) -> list[dict[str, Any]]:
        await self._read(client_id)
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
        self._local.pop(client_id, None)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.prefix + client_id)
            pipe.zrem(self.clients_key, client_id)
            # What other workers still hold from before now is never written.
            pipe.set(self.cleared_prefix + client_id, int(self.clock() * 1000), ex=READ_TTL)
            await pipe.execute()

    async def aclose(self) -> None:
        for task in (self._task, self._checker):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.flush()
