"""The state engine a sandbox runs on, built from ``Settings.state`` (``--state``).

``memory://`` (the default) keeps what clients change in this process: nothing
to install, lost on restart, one worker (``state/memory/``). ``redis://HOST:PORT/DB``
keeps it in Redis, shared by every worker and replica and kept across restarts
(``state/redis/``). Both implement every port of ``state/ports.py``; this
factory is the only place that knows there are two. The seeded base data is
never here: it is read-only and regenerated from the seed by each process.

Failing clearly: ``open_state`` pings Redis once, so an unreachable Redis stops
start-up with one line (``ConfigError``); a Redis error while serving becomes
``503 SERVICE_UNAVAILABLE`` with ``Retry-After`` (``state/outages.py``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from pin_mock.server.errors import ConfigError
from pin_mock.server.state.health_port import MonitoredEngine
from pin_mock.server.state.memory.engine import MemoryEngine

MEMORY = ("memory://", "memory", "")
REDIS = ("redis://", "rediss://", "unix://")


def open_state(
    url: str,
    *,
    clock: Callable[[], float] = time.time,
    claim_timeout: float = 30.0,
    sandbox_ttl: int = 7 * 86_400,
    check: bool = True,
) -> MonitoredEngine:
    """The engine for ``url``; a ``ConfigError`` with one line of reason if it is unusable.

    ``clock``: the sandbox clock (activity of tenants, for ``sandbox_ttl``);
    ``claim_timeout``: how long a silent worker's job waits before another takes it
    over; ``check``: on Redis, ping it now.
    """
    if url in MEMORY:
        return MemoryEngine()
    if not url.startswith(REDIS):
        raise ConfigError(f"--state must be memory:// or redis://HOST:PORT/DB, got {url!r}")
    try:
        # Only the Redis engine needs redis-py (in the server extra).
        from pin_mock.server.state.redis.engine import RedisEngine
    except ImportError:  # pragma: no cover
        raise ConfigError(
            "--state redis:// needs redis-py: pip install 'pin-mock[server]'"
        ) from None
    try:
        engine = RedisEngine(url, clock=clock, claim_timeout=claim_timeout, sandbox_ttl=sandbox_ttl)
    except ValueError as exc:
        raise ConfigError(f"--state {redacted(url)}: {exc}") from None
    problem = engine.unreachable() if check else None
    if problem is not None:
        engine.sync.close()
        raise ConfigError(f"cannot reach the state engine at {redacted(url)}: {problem}")
    return engine


def check_reachable(url: str) -> None:
    """Open the engine of ``url`` once (pinging Redis) and close it: ``ConfigError`` if
    it is unusable. Outside any event loop (before the server starts)."""
    asyncio.run(open_state(url).aclose())


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
