"""Signing keys and the id space in Redis, shared by every worker, replica and restart.

- ``RedisSigningKeys``: the hash ``pin:keys`` (kid -> secret); the first worker
  to need a period's key makes it (``HSETNX``), the rest read it.
- ``RedisIdSpace``: the id permutation's key, created once (``SET NX``) at
  ``pin:ids:key``, and an *incarnation* per process (``INCR pin:ids:incarnation``)
  that fills the id counter's upper bits, so ids stay unique across processes.

Blocking calls on the engine's synchronous client: they are rare (once per
rotation period or new ``kid`` seen; once per start and 33 million ids).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis


class RedisSigningKeys:
    """``SigningKeys`` in a Redis hash."""

    def __init__(self, client: redis.Redis, name: str) -> None:
        self._redis = client
        self._name = name

    def get(self, kid: str) -> str | None:
        raw = self._redis.hget(self._name, kid)
        return None if raw is None else raw.decode()

    def create(self, kid: str, secret: str) -> str:
        self._redis.hsetnx(self._name, kid, secret)
        raw = self._redis.hget(self._name, kid)
        return raw.decode() if raw is not None else secret

    def kids(self) -> list[str]:
        return [raw.decode() for raw in self._redis.hkeys(self._name)]

    def delete(self, kids: list[str]) -> None:
        if kids:
            self._redis.hdel(self._name, *kids)


class RedisIdSpace:
    """``IdSpace`` shared through Redis."""

    def __init__(self, client: redis.Redis, namespace: str = "pin") -> None:
        self._redis = client
        self._key_name = f"{namespace}:ids:key"
        self._incarnations = f"{namespace}:ids:incarnation"

    def key(self) -> bytes:
        self._redis.set(self._key_name, secrets.token_bytes(32), nx=True)
        return self._redis.get(self._key_name)

    def incarnation(self) -> int | None:
        return int(self._redis.incr(self._incarnations))
