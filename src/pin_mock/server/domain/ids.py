"""Ids of created objects, like ``patient_9f3a0c1b2d4e``: unpredictable, never reused.

Every created id is ``<prefix>_`` and 12 hex digits: a keyed pseudorandom
permutation (a Feistel network) of a counter. So ids never repeat (a
permutation of a counter cannot collide), reveal nothing about how many
objects other tenants created (the gaps are random), while no set of issued
ids is kept. The top bit of the 48 is always set, so created ids never equal a
seeded one (those count patients from 0: ``cd_0000097000a3``). Seeded data
does not use this factory; it stays a pure function of the seed.

In memory the key is random per process and the counter starts at 0 (a
restart loses the objects too). On Redis ids must stay unique across workers,
replicas and restarts, so the key is kept in Redis (created once, ``SET NX``)
and each process takes a fresh *incarnation* number (``INCR``) that fills the
counter's upper bits; the lower bits count this process's ids, and a new
incarnation is taken when they run out. ``new`` stays synchronous, so callers
need no ``await`` for an id.
"""

from __future__ import annotations

import secrets
import threading
from hashlib import blake2b
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import redis


class IdFactory:
    """Issues created ids; ``IdFactory.shared(...)`` for the Redis engine."""

    BITS = 47  # the permutation's width; bit 48 marks a created id
    _ROUNDS = 6  # Luby-Rackoff: four rounds of a PRF already give a strong PRP
    #: On Redis: ids per incarnation (2**25, 33 million) and so 2**22 incarnations.
    LOCAL_BITS = 25

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._count = 0
        self._base = 0
        self._limit = 1 << self.BITS
        self._redis: redis.Redis | None = None
        self._incarnations = ""
        self._lock = threading.Lock()

    @classmethod
    def shared(cls, client: redis.Redis, namespace: str = "pin") -> IdFactory:
        """A factory whose ids are unique across every process using this Redis."""
        key_name = f"{namespace}:ids:key"
        client.set(key_name, secrets.token_bytes(32), nx=True)
        factory = cls(client.get(key_name))
        factory._redis = client
        factory._incarnations = f"{namespace}:ids:incarnation"
        factory._next_incarnation()
        return factory

    def _next_incarnation(self) -> None:
        assert self._redis is not None
        incarnation = int(self._redis.incr(self._incarnations))
        if incarnation >= 1 << (self.BITS - self.LOCAL_BITS):
            raise RuntimeError("id incarnations exhausted")  # 4 million starts
        self._base = incarnation << self.LOCAL_BITS
        self._count = 0
        self._limit = 1 << self.LOCAL_BITS

    def new(self, prefix: str) -> str:
        """A fresh id with ``prefix``, never issued before."""
        with self._lock:  # report rendering threads may ask too
            if self._count >= self._limit:
                if self._redis is None:
                    raise RuntimeError("id space exhausted")  # 1.4e14 ids: unreachable
                self._next_incarnation()  # once per 33 million ids: a blocking call is fine
            value = self._permute(self._base | self._count)
            self._count += 1
        return f"{prefix}_{(1 << self.BITS) | value:012x}"

    def _permute(self, number: int) -> int:
        # An unbalanced Feistel network: halves of 23 and 24 bits swap widths each
        # round, so every round (and the whole) is a bijection on 47-bit numbers.
        left_bits = self.BITS // 2
        right_bits = self.BITS - left_bits
        left, right = number >> right_bits, number & ((1 << right_bits) - 1)
        for round_no in range(self._ROUNDS):
            mixed = blake2b(
                round_no.to_bytes(1, "big") + right.to_bytes(4, "big"),
                key=self._key,
                digest_size=4,
            )
            new_right = left ^ (int.from_bytes(mixed.digest(), "big") & ((1 << left_bits) - 1))
            left, right = right, new_right
            left_bits, right_bits = right_bits, left_bits
        return (left << right_bits) | right
