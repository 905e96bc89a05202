"""Where reports live: the tenant in memory, or Redis; one interface for both.

A report is its view (what the API shows) and, once completed, its file. The
view changes only through ``advance``, a compare-and-set on the status: it
applies only while the report is still in one of the given statuses, so when
two workers finish the same job (one taken over from the other) exactly one
completes it and announces it. ``add`` checks the ``reports`` quota and stores
in one step, so concurrent creates on several workers cannot pass it together.

Redis keys, all of the tenant (``T`` = ``pin:t:{client}:``); each write names
the keys it creates in ``T keys`` and marks the tenant active in ``pin:tenants``,
so a reset or an idle sandbox's expiry (``state/redis_tenants.py``) removes them::

    T reports        HASH  report id -> the view, JSON (the reset counts it)
    T reports:order  ZSET  report id -> creation number (the order of the list)
    T reports:files  HASH  report id -> the file, once completed
    T seq            a counter numbering creations
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pin_mock.server.services import Services
    from pin_mock.server.state.engine import StateEngine


@dataclass
class StoredReport:
    """A report in memory: its view and, once completed, its file."""

    view: dict[str, Any]
    content: bytes | None = None


class ReportStore(Protocol):
    async def add(
        self,
        client_id: str,
        view: dict[str, Any],
        cap: int,
        queue: tuple[str, str] | None = None,
    ) -> int | None:
        """Store a new report unless the client holds ``cap``; else how many it holds.

        On Redis, ``queue`` is ``(stream, job)``: the job is queued in the same step.
        """
        ...

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None: ...

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        """Every report of the client, oldest first."""
        ...

    async def count(self, client_id: str) -> int: ...

    async def file(self, client_id: str, report_id: str) -> bytes | None: ...

    async def advance(
        self,
        client_id: str,
        view: dict[str, Any],
        allowed: tuple[str, ...],
        changes: dict[str, Any],
        content: bytes | None = None,
    ) -> bool:
        """Apply ``changes`` (and store ``content``) if the status is still in ``allowed``."""
        ...


class MemoryReports:
    """Reports in the process's tenants (``Tenant.reports``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def _reports(self, client_id: str) -> dict[str, StoredReport]:
        return self.services.store.tenant(client_id).reports

    async def add(
        self,
        client_id: str,
        view: dict[str, Any],
        cap: int,
        queue: tuple[str, str] | None = None,
    ) -> int | None:
        reports = self._reports(client_id)
        if len(reports) + 1 > cap:
            return len(reports)
        reports[view["id"]] = StoredReport(view)
        return None

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        stored = self._reports(client_id).get(report_id)
        return None if stored is None else stored.view

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return [stored.view for stored in self._reports(client_id).values()]

    async def count(self, client_id: str) -> int:
        return len(self._reports(client_id))

    async def file(self, client_id: str, report_id: str) -> bytes | None:
        stored = self._reports(client_id).get(report_id)
        return None if stored is None else stored.content

    async def advance(
        self,
        client_id: str,
        view: dict[str, Any],
        allowed: tuple[str, ...],
        changes: dict[str, Any],
        content: bytes | None = None,
    ) -> bool:
        stored = self._reports(client_id).get(view["id"])
        if stored is None or stored.view["status"] not in allowed:
            return False
        stored.view.update(changes)
        if content is not None:
            stored.content = content
        return True


# Store a report unless the tenant holds the quota, and queue its job. KEYS: reports, order,
# seq, keys, tenants[, stream]; ARGV: id, view, cap, now, client id[, job]. Answers -1 when
# stored, else the number held.
_ADD = """
local held = redis.call('HLEN', KEYS[1])
if held + 1 > tonumber(ARGV[3]) then return held end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[1])
redis.call('SADD', KEYS[4], KEYS[2], KEYS[3])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5])
if KEYS[6] then redis.call('XADD', KEYS[6], '*', 'job', ARGV[6]) end
return -1
"""
# The compare-and-set on the status. KEYS: reports, files, keys; ARGV: id, allowed statuses
# (comma-separated), the new view, the file ('' for none). Answers 1 if applied.
_ADVANCE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local status = cjson.decode(raw)['status']
if not string.find(',' .. ARGV[2] .. ',', ',' .. status .. ',', 1, true) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
  redis.call('SADD', KEYS[3], KEYS[2])
end
return 1
"""


class RedisReports:
    """Reports in Redis, shared by every worker and replica."""

    def __init__(self, engine: StateEngine, clock: Callable[[], float]) -> None:
        assert engine.redis is not None
        self.redis = engine.redis
        self.tk = engine.tenant_key
        self.tenants = engine.key("tenants")
        self.clock = clock
        self._add = self.redis.register_script(_ADD)
        self._advance = self.redis.register_script(_ADVANCE)

    async def add(
        self,
        client_id: str,
        view: dict[str, Any],
        cap: int,
        queue: tuple[str, str] | None = None,
    ) -> int | None:
        tk = self.tk
        keys = [tk(client_id, "reports"), tk(client_id, "reports", "order"), tk(client_id, "seq")]
        keys += [tk(client_id, "keys"), self.tenants]
        args = [view["id"], json.dumps(view), cap, self.clock(), client_id]
        if queue is not None:
            keys.append(queue[0])
            args.append(queue[1])
        held = int(await self._add(keys=keys, args=args))
        return None if held < 0 else held

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        raw = await self.redis.hget(self.tk(client_id, "reports"), report_id)
        return None if raw is None else json.loads(raw)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        ids = await self.redis.zrange(self.tk(client_id, "reports", "order"), 0, -1)
        if not ids:
            return []
        raws = await self.redis.hmget(self.tk(client_id, "reports"), ids)
        return [json.loads(raw) for raw in raws if raw is not None]

    async def count(self, client_id: str) -> int:
        return int(await self.redis.hlen(self.tk(client_id, "reports")))

    async def file(self, client_id: str, report_id: str) -> bytes | None:
        return await self.redis.hget(self.tk(client_id, "reports", "files"), report_id)

    async def advance(
        self,
        client_id: str,
        view: dict[str, Any],
        allowed: tuple[str, ...],
        changes: dict[str, Any],
        content: bytes | None = None,
    ) -> bool:
        tk = self.tk
        keys = [tk(client_id, "reports"), tk(client_id, "reports", "files"), tk(client_id, "keys")]
        # Only the status changes between two looks at a view, and the script checks it.
        new = json.dumps({**view, **changes})
        args = [view["id"], ",".join(allowed), new, b"" if content is None else content]
        return bool(await self._advance(keys=keys, args=args))


def open_reports(services: Services) -> MemoryReports | RedisReports:
    """The report store of the sandbox's engine."""
    engine = getattr(services, "state", None)
    if engine is None or engine.redis is None:
        return MemoryReports(services)
    return RedisReports(engine, services.clock)
