"""``RedisEngine``: every state port on Redis (``redis://HOST:PORT/DB``).

Shared by every worker and replica and kept across restarts. One
``redis.asyncio`` client (a blocking pool of ``POOL_SIZE`` connections: a
request waits for a free one, never errors) serves every port, the rate-limit
counters included; a blocking client serves the rare synchronous look-ups
(signing keys, id incarnations). A call that has not answered in
``SOCKET_TIMEOUT`` is a lost Redis (503, ``state/outages.py``), not a slow one.

The request's one script call goes together with the other calls of this
worker waiting at the same moment, as one pipeline (``batches.py``).

Recovery: a pooled connection that broke while Redis was away (restarted,
failed over) is found out by the first command sent on it. That command is
sent once more, at once, on a new connection (``RETRY``: on a connection
error only, never on a timeout), and a connection idle for
``HEALTH_CHECK_INTERVAL`` is pinged (and replaced) before it carries a command,
so no request fails once Redis answers again. Sending twice is safe: the
command never reached a live Redis the first time (a Redis that dies mid-command
is still dead when the second try comes, so that try fails: 503), and the writes
a client repeats are idempotent anyway (a patient by its id, an entry against
its patient's last one; a count at worst counted twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis as sync_redis
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as ConnectionLost

from pin_mock.server.state.journal_port import JournalLimits
from pin_mock.server.state.redis.chaos import RedisChaos
from pin_mock.server.state.redis.clocks import RedisClocks
from pin_mock.server.state.redis.counters import RedisCounters
from pin_mock.server.state.redis.event_archive import RedisEventArchive
from pin_mock.server.state.redis.health import RedisHealth
from pin_mock.server.state.redis.journal import RedisJournal
from pin_mock.server.state.redis.keys import RedisIdSpace, RedisSigningKeys
from pin_mock.server.state.redis.keyspace import Keyspace
from pin_mock.server.state.redis.queue import RedisQueue
from pin_mock.server.state.redis.reports import RedisReports
from pin_mock.server.state.redis.tenants import RedisTenants
from pin_mock.server.state.redis.trips import CountingRedis, Trips
from pin_mock.server.state.redis.webhooks import RedisWebhooks

#: Connections one process keeps to Redis; a request waits for a free one (never errors).
POOL_SIZE = 64
#: A Redis call that has not answered in this long is a lost Redis (503), not a slow one.
SOCKET_TIMEOUT = 5.0
#: The same for the blocking client (start-up, and signing keys: at most once per 5 s).
SYNC_TIMEOUT = 1.0
#: A connection idle this long is pinged before it carries a command (seconds).
HEALTH_CHECK_INTERVAL = 10


def _recovery(retry: type) -> dict[str, object]:
    """Connection options: one more try, at once, on a broken connection; health checks."""
    return {
        "retry": retry(NoBackoff(), 1, supported_errors=(ConnectionLost,)),
        "health_check_interval": HEALTH_CHECK_INTERVAL,
    }


class RedisEngine:
    """The ``StateEngine`` port on one Redis database (``ValueError`` for a bad URL)."""

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] = time.time,
        claim_timeout: float = 30.0,
        sandbox_ttl: int = 7 * 86_400,
        namespace: str = "pin",
    ) -> None:
        self.url = url
        timeouts = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT}
        pool = BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, **timeouts, **_recovery(Retry)
        )
        # Every command waits for its request's rate-limit count, or carries it (trips.py).
        self.redis = CountingRedis(connection_pool=pool)
        # The blocking client runs on the event loop (rare key look-ups): short timeouts.
        self.sync = sync_redis.Redis.from_url(
            url,
            socket_timeout=SYNC_TIMEOUT,
            socket_connect_timeout=SYNC_TIMEOUT,
            **_recovery(sync_redis.retry.Retry),
        )
        self.trips = Trips(self.redis, SOCKET_TIMEOUT)
        space = Keyspace(self.redis, namespace, clock, self.trips)
        self.keyspace = space

        def queue(kind: str) -> RedisQueue:
            key, slots = space.key("q", kind), space.key("slots", kind)
            return RedisQueue(self.redis, key, claim_timeout=claim_timeout, slots_key=slots)

        self.report_jobs = queue("reports")
        self.deliveries = queue("deliveries")
        self.webhooks = RedisWebhooks(space, self.deliveries)
        self.reports = RedisReports(space, self.report_jobs)
        self.tenants = RedisTenants(space, self.webhooks, ttl=sandbox_ttl)
        self.archive = RedisEventArchive(space)
        self.keys = RedisSigningKeys(self.sync, space.key("keys"))
        self.ids = RedisIdSpace(self.sync, namespace)
        self.chaos = RedisChaos(space, sandbox_ttl)
        queues = {"reports": self.report_jobs, "deliveries": self.deliveries}
        self.health = RedisHealth(self.redis, space.key("health"), queues)
        self.clocks = RedisClocks(space, queues)
        self._counters: dict[str, RedisCounters] = {}

    def counters(self, name: str) -> RedisCounters:
        if name not in self._counters:
            pool = self.redis.connection_pool
            key = self.keyspace.key(name)
            self._counters[name] = RedisCounters(self.url, pool, key, self.trips.batches)
        return self._counters[name]

    def journal(self, limits: JournalLimits) -> RedisJournal:
        """The request journal (``journal_port.py``), one per app."""
        return RedisJournal(self.redis, self.keyspace.namespace, limits, self.keyspace.clock)

    def unreachable(self) -> str | None:
        """Why Redis does not answer a ping (one line), or None when it does."""
        try:
            self.sync.ping()
        except sync_redis.RedisError as exc:
            return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None

    async def aclose(self) -> None:
        await self.clocks.aclose()  # its listener holds a connection of the pool
        await self.trips.batches.aclose()  # the lane's own connection (batches.py)
        await self.redis.aclose()
        # The pool is shared with the rate limiter's storage: close it for both.
        await self.redis.connection_pool.disconnect()
        self.sync.close()
