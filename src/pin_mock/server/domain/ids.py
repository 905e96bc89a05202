"""Ids of created objects, like ``patient_9f3a0c1b2d4e``: unpredictable, never reused.

Every created id is ``<prefix>_`` and 12 hex digits: a keyed pseudorandom
permutation (a Feistel network) of a counter. So ids never repeat (a
permutation of a counter cannot collide), reveal nothing about how many
objects other tenants created (the gaps are random), while no set of issued
ids is kept. The top bit of the 48 is always set, so created ids never equal a
seeded one (those count patients from 0: ``cd_0000097000a3``). Seeded data
does not use this factory; it stays a pure function of the seed.

The key and the counter's upper bits come from the engine's ``IdSpace``
(``state/ports.py``). In memory the key is random per process and the whole
counter is the process's own (a restart loses the objects too). On Redis ids
must stay unique across workers, replicas and restarts, so the key is kept in
Redis and each process takes a fresh *incarnation* number that fills the
counter's upper bits; the lower bits count this process's ids, and a new
incarnation is taken when they run out. ``new`` stays synchronous, so callers
need no ``await`` for an id.
"""

from __future__ import annotations

import threading
from hashlib import blake2b

from pin_mock.server.state.ports import IdSpace


class IdFactory:
    """Issues created ids from the engine's ``IdSpace``."""

    BITS = 47  # the permutation's width; bit 48 marks a created id
    _ROUNDS = 6  # Luby-Rackoff: four rounds of a PRF already give a strong PRP
    #: On Redis: ids per incarnation (2**25, 33 million) and so 2**22 incarnations.
    LOCAL_BITS = 25

    def __init__(self, space: IdSpace) -> None:
        self._space = space
        self._key = space.key()
        self._lock = threading.Lock()
        self._count = 0
        self._next_incarnation()

    def _next_incarnation(self) -> None:
        incarnation = self._space.incarnation()
        if incarnation is None:  # the whole counter is this process's
            if self._count:
                raise RuntimeError("id space exhausted")  # 1.4e14 ids: unreachable
            self._base, self._limit = 0, 1 << self.BITS
        elif incarnation >= 1 << (self.BITS - self.LOCAL_BITS):
            raise RuntimeError("id incarnations exhausted")  # 4 million starts
        else:
            self._base, self._limit = incarnation << self.LOCAL_BITS, 1 << self.LOCAL_BITS
        self._count = 0

    def new(self, prefix: str) -> str:
        """A fresh id with ``prefix``, never issued before."""
        with self._lock:  # report rendering threads may ask too
            if self._count >= self._limit:
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
