"""The tokens' signing keys: one current key, retired keys verifying for a grace period.

A token names its key in the JWT header (``kid``). Keys are numbered by the
rotation period they start (``kid`` = ``now // key_rotation``, or ``0`` when
keys never rotate), so every worker and replica agrees on the current key
without talking to the others: the first to need a period's key creates it
(``HSETNX``), the rest read it. A key is retired when its period ends and
still verifies for ``key_grace`` seconds (default: the token lifetime, so no
token outlives its key).

- ``--signing-key``: that one key, never rotated (``kid`` ``static``).
- otherwise keys are kept by the engine's ``SigningKeys`` (``state/ports.py``):
  in memory, this process's own; on Redis, the hash ``pin:keys``, so a token
  from any worker verifies on all and after restarts. They are cached here; an
  unknown ``kid`` refreshes the cache at most once per ``REFRESH`` seconds, so
  forged ``kid``s cannot make every request a Redis call. The calls are
  blocking but rare (once per rotation, or a new key seen).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from pin_mock.server.state.ports import SigningKeys

#: Seconds between two refreshes of the key cache for an unknown ``kid``.
REFRESH = 5.0
#: Clocks of replicas may differ a little: a key of a period this close ahead verifies.
SKEW = 60.0
STATIC_KID = "static"


class KeyRing:
    """Signing keys by ``kid``; ``current()`` signs, ``lookup(kid)`` verifies."""

    def __init__(
        self,
        store: SigningKeys | None = None,
        *,
        rotation: int = 0,
        grace: int = 0,
        static: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store is None and static is None:
            raise TypeError("a key ring needs a store of keys or a static key")
        self.rotation = rotation
        self.grace = grace
        self._static = static
        self._store = store
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
        if secret is None and now - self._refreshed >= REFRESH:
            assert self._store is not None
            self._refreshed = now
            secret = self._store.get(kid)
            if secret is not None:
                self._keys[kid] = secret
        return secret

    def _create(self, kid: str) -> str:
        assert self._store is not None
        # The first worker to need this period's key makes it; the others read it.
        self._keys[kid] = self._store.create(kid, secrets.token_urlsafe(32))
        self._prune()
        return self._keys[kid]

    def _prune(self) -> None:
        """Forget keys past their grace (here and in the store)."""
        assert self._store is not None
        now = self._clock()
        stale = [kid for kid in self._keys if not self._valid(kid, now)]
        for kid in stale:
            del self._keys[kid]
        if self.rotation:
            self._store.delete([kid for kid in self._store.kids() if not self._valid(kid, now)])
