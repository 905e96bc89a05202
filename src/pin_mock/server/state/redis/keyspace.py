"""Where the Redis engine's keys live, and the clients every part of it shares.

Every key pin-mock writes starts with ``pin:`` (the namespace), so one Redis
database can hold other things too; what belongs to one client starts with
``pin:t:{client_id}:`` (``tenant_key``), so a client's sandbox is reset or
expired as a whole (``tenants.py``). A part that keeps per-tenant keys either
uses a name in ``tenants.FIXED_KEYS`` or adds the key to the tenant's ``keys``
set in the same write.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pin_mock.server.state.ports import Job

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from pin_mock.server.state.redis.trips import Trips


def encode_job(job: Job) -> str:
    """A job as the engine writes it (a stream entry's ``job`` field, a retry-set member)."""
    return json.dumps(job, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class Keyspace:
    """The async client (bytes, not decoded), the namespace, the sandbox clock, and the
    scripts that carry a request's rate-limit count (``trips.py``)."""

    redis: Redis
    namespace: str = "pin"
    clock: Callable[[], float] = field(default=time.time)
    trips: Trips | None = None

    def key(self, *parts: str) -> str:
        """A namespaced key: ``key("tenants")`` -> ``pin:tenants``."""
        return ":".join((self.namespace, *parts))

    def tenant_key(self, client_id: str, *parts: str) -> str:
        """A key of one client's sandbox: ``pin:t:{client_id}:...`` (reset and expired together)."""
        return self.key("t", client_id, *parts)
