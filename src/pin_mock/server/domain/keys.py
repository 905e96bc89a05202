"""The tokens' signing keys: one current key, retired keys verifying for a grace period.

A token names its key in the JWT header (``kid``). Keys are numbered by the
rotation period they start (``kid`` = ``now // key_rotation``, or ``0`` when
keys never rotate), so every worker and replica agrees on the current key
without talking to the others: the first to need a period's key creates it
(``HSETNX``), the rest read it. A key is retired when its period ends and
still verifies for ``key_grace`` seconds (default: the token lifetime, so no
token outlives its key).

- ``--signing-key``: that one key, never rotated (``kid`` ``static``).
- memory: keys made in this process.
- Redis: keys in the hash ``pin:keys`` (kid -> secret), so a token from any
  worker verifies on all and after restarts. They are cached here; an unknown
  ``kid`` refreshes the cache at most once per ``REFRESH`` seconds, so forged
  ``kid``s cannot make every request a Redis call. The calls are blocking but
  rare (once per rotation, or a new key seen).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis

#: Seconds between two refreshes of the key cache for an unknown ``kid``.
REFRESH = 5.0
#: Clocks of replicas may differ a little: a key of a period this close ahead verifies.
SKEW = 60.0
STATIC_KID = "static"


class KeyRing:
    """Signing keys by ``kid``; ``current()`` signs, ``lookup(kid)`` verifies."""

    def __init__(
        self,
        *,
        rotation: int,
        grace: int,
        static: str | None = None,
        client: redis.Redis | None = None,
        name: str = "pin:keys",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.rotation = rotation
        self.grace = grace
        self._static = static
        self._redis = client
        self._name = name
        self._clock = clock
        self._keys: dict[str, str] = {}
        self._refreshed = float("-inf")

    def _period(self, now: float) -> int:
        return int(now // self.rotation) if self.rotation else 0

    def _valid(self, kid: str, now: float) -> bool:
        """A key verifies during its period and ``grace`` seconds after it."""
        if not self.rotation:
            return True
        try:
            period = int(kid)
        except ValueError:
            return False
        return (
            period <= self._period(now + SKEW) and (period + 1) * self.rotation + self.grace > now
        )

    def current(self) -> tuple[str, str]:
        """``(kid, secret)`` of the key that signs now."""
        if self._static is not None:
            return STATIC_KID, self._static
        kid = str(self._period(self._clock()))
        secret = self._keys.get(kid)
        if secret is None:
            secret = self._create(kid)
        return kid, secret

    def lookup(self, kid: str) -> str | None:
        """The secret of ``kid`` if it still verifies, else None."""
        if self._static is not None:
            return self._static if kid == STATIC_KID else None
        now = self._clock()
        if not self._valid(kid, now):
            return None
        secret = self._keys.get(kid)
        if secret is None and self._redis is not None and now - self._refreshed >= REFRESH:
            self._refreshed = now
            raw = self._redis.hget(self._name, kid)
            if raw is not None:
                secret = self._keys[kid] = raw.decode()
        return secret

    def _create(self, kid: str) -> str:
        fresh = secrets.token_urlsafe(32)
        if self._redis is None:
            self._keys[kid] = fresh
        else:
            # The first worker to need this period's key makes it; the others read it.
            self._redis.hsetnx(self._name, kid, fresh)
            raw = self._redis.hget(self._name, kid)
            self._keys[kid] = raw.decode() if raw is not None else fresh
        self._prune()
        return self._keys[kid]

    def _prune(self) -> None:
        """Forget keys past their grace (here and in Redis)."""
        now = self._clock()
        stale = [kid for kid in self._keys if not self._valid(kid, now)]
        for kid in stale:
            del self._keys[kid]
        if self._redis is not None and self.rotation:
            old = [
                raw for raw in self._redis.hkeys(self._name) if not self._valid(raw.decode(), now)
            ]
            if old:
                self._redis.hdel(self._name, *old)
