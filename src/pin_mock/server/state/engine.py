"""The state engine a sandbox runs on, chosen by ``Settings.state``.

``memory://`` (the default) keeps what clients change in this process: nothing
to install, lost on restart, one worker. ``redis://HOST:PORT/DB`` keeps it in
Redis, shared by every worker and replica and kept across restarts. The seeded
base data is never here: it is read-only and regenerated from the seed by each
process. Code above this layer asks ``shared`` which engine it has only where
the two must behave differently (several workers are refused in memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pin_mock.server.errors import ConfigError

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass
class StateEngine:
    """The engine's address and, on Redis, the client every component shares."""

    url: str
    #: A ``redis.asyncio.Redis`` (bytes, not decoded) on the Redis engine; ``None`` in memory.
    redis: Redis | None = None
    #: Prefix of every key pin-mock writes, so one Redis database can hold other things too.
    namespace: str = "pin"

    @property
    def shared(self) -> bool:
        """True when the state is shared by processes (Redis)."""
        return self.redis is not None

    def key(self, *parts: str) -> str:
        """A namespaced key: ``key("tenant", client_id, "patients")`` -> ``pin:tenant:...``."""
        return ":".join((self.namespace, *parts))


def open_state(url: str) -> StateEngine:
    """The engine for ``url``; a ``ConfigError`` with one line of reason if it is unusable."""
    if url in ("memory://", "memory", ""):
        return StateEngine("memory://")
    if url.startswith(("redis://", "rediss://", "unix://")):
        from redis.asyncio import Redis  # only the Redis engine needs redis-py

        return StateEngine(url, Redis.from_url(url))
    raise ConfigError(f"--state must be memory:// or redis://HOST:PORT/DB, got {url!r}")
