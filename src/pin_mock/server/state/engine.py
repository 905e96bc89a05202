"""The state engine a sandbox runs on, chosen by ``Settings.state``.

``memory://`` (the default) keeps what clients change in this process: nothing
to install, lost on restart, one worker. ``redis://HOST:PORT/DB`` keeps it in
Redis, shared by every worker and replica and kept across restarts. The seeded
base data is never here: it is read-only and regenerated from the seed by each
process. Code above this layer asks ``shared`` which engine it has only where
the two must behave differently (several workers are refused in memory).

Every key pin-mock writes starts with ``pin:``; what belongs to one client
starts with ``pin:t:{client_id}:`` (``tenant_key``), so a client's sandbox can
be reset or expired as a whole (``state/redis_tenants.py``).

Failing clearly: ``open_state`` pings Redis once, so an unreachable Redis stops
start-up with one line (``ConfigError``); a Redis error while serving becomes
``503 SERVICE_UNAVAILABLE`` with ``Retry-After`` (``unavailable``), and since
every write is one Lua script or transaction, nothing is ever half-written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from pin_mock.server.errors import ConfigError, ServiceUnavailable

if TYPE_CHECKING:
    import redis
    from redis.asyncio import Redis

#: Seconds a client is told to wait when Redis is unreachable.
RETRY_AFTER = 2
#: Connections one process keeps to Redis; a request waits for a free one (never errors).
POOL_SIZE = 64
#: A Redis call that has not answered in this long is a lost Redis (503), not a slow one.
SOCKET_TIMEOUT = 5.0
#: The same for the blocking client (start-up, and signing keys: at most once per 5 s).
SYNC_TIMEOUT = 1.0


@dataclass
class StateEngine:
    """The engine's address and, on Redis, the client every component shares."""

    url: str
    #: A ``redis.asyncio.Redis`` (bytes, not decoded) on the Redis engine; ``None`` in memory.
    redis: Redis | None = None
    #: Prefix of every key pin-mock writes, so one Redis database can hold other things too.
    namespace: str = "pin"
    #: A blocking client for start-up work and rare lookups (signing keys); ``None`` in memory.
    sync: redis.Redis | None = None

    @property
    def shared(self) -> bool:
        """True when the state is shared by processes (Redis)."""
        return self.redis is not None

    def key(self, *parts: str) -> str:
        """A namespaced key: ``key("tenant", client_id, "patients")`` -> ``pin:tenant:...``."""
        return ":".join((self.namespace, *parts))

    def tenant_key(self, client_id: str, *parts: str) -> str:
        """A key of one client's sandbox: ``pin:t:{client_id}:...`` (reset and expired together)."""
        return self.key("t", client_id, *parts)

    async def aclose(self) -> None:
        """Close the connections (the app's lifespan calls it at shutdown)."""
        if self.redis is not None:
            await self.redis.aclose()
            # The pool is shared with the rate limiter's storage: close it for both.
            await self.redis.connection_pool.disconnect()
        if self.sync is not None:
            self.sync.close()


def open_state(url: str, *, check: bool = True) -> StateEngine:
    """The engine for ``url``; a ``ConfigError`` with one line of reason if it is unusable.

    On Redis, ``check`` pings the server now (``check_reachable``).
    """
    if url in ("memory://", "memory", ""):
        return StateEngine("memory://")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"--state must be memory:// or redis://HOST:PORT/DB, got {url!r}")
    try:
        import redis as sync_redis  # only the Redis engine needs redis-py
        from redis.asyncio import BlockingConnectionPool, Redis
    except ImportError:  # pragma: no cover - redis-py is in the server extra
        raise ConfigError(
            "--state redis:// needs redis-py: pip install 'pin-mock[server]'"
        ) from None
    timeouts = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT}
    try:
        pool = BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, **timeouts)
        client = Redis(connection_pool=pool)
        # The blocking client runs on the event loop (rare key look-ups): short timeouts.
        blocking = sync_redis.Redis.from_url(
            url, socket_timeout=SYNC_TIMEOUT, socket_connect_timeout=SYNC_TIMEOUT
        )
    except ValueError as exc:
        raise ConfigError(f"--state {redacted(url)}: {exc}") from None
    engine = StateEngine(url, client, sync=blocking)
    if check:
        check_reachable(engine)
    return engine


def check_reachable(engine: StateEngine) -> None:
    """Ping Redis; ``ConfigError`` with one line if it does not answer (``pin-mock serve``)."""
    if engine.sync is None:
        return
    import redis

    try:
        engine.sync.ping()
    except redis.RedisError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot reach the state engine at {redacted(engine.url)}: {reason}"
        ) from None


def unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 answer for an error of the state engine (Redis lost), else ``None``."""
    try:
        from redis.exceptions import (
            ConnectionError,
            OutOfMemoryError,
            ReadOnlyError,
            TimeoutError,
        )
    except ImportError:  # pragma: no cover
        return None
    # Lost, timed out, loading its data, a read-only replica, or full (``maxmemory`` with
    # ``noeviction``: Redis refuses a write script before its first write, so nothing was
    # written): wait and retry. Any other Redis error (a script bug) is ours and stays a 500.
    if isinstance(exc, OutOfMemoryError):
        return ServiceUnavailable(
            "The sandbox's shared state is full; nothing was changed. Try again later.",
            retry_after=RETRY_AFTER,
        )
    if not isinstance(exc, ConnectionError | TimeoutError | ReadOnlyError):
        return None
    return ServiceUnavailable(
        "The service's shared state is unreachable; nothing was changed. Try again shortly.",
        retry_after=RETRY_AFTER,
    )


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
