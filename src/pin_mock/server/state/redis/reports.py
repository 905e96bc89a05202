"""Where reports live: the tenant in memory, or Redis; the same methods on both.

A report is its view (what the API shows) and, once completed, its file. The
view changes only through ``advance``, a compare-and-set on the status: it
applies only while the report is still in one of the given statuses, so when
two workers finish the same job (one taken over from the other) exactly one
completes it and announces it. ``add`` checks the ``reports`` quota and stores
in one step, so concurrent creates on several workers cannot pass it together.

``MemoryReports`` keeps them in the tenant (``Tenant.reports``); ``RedisReports``
is a ``RedisCollection`` named ``reports`` (``state/redis_collections.py``: the
views, their order, ``add`` with its quota, ``get``, ``all``, ``count``) plus the
files. Redis keys, all of the tenant (``T`` = ``pin:t:{client}:``); each write
names the keys it creates in ``T keys``, so a reset or an idle sandbox's expiry
(``state/redis_tenants.py``) removes them::

    T reports        HASH  report id -> the view, JSON (the reset counts it)
    T reports:order  ZSET  report id -> creation number (the order of the list)
    T reports:files  HASH  report id -> the file, once completed
    T seq            a counter numbering creations
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pin_mock.server.state.redis.collections import RedisCollection

if TYPE_CHECKING:
    from pin_mock.server.services import Services
    from pin_mock.server.state.engine import StateEngine


@dataclass
class StoredReport:
    """A report in memory: its view and, once completed, its file."""

    view: dict[str, Any]
    content: bytes | None = None


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
        """Store a new report unless the client holds ``cap``; else how many it holds.

        On Redis, ``queue`` is ``(stream, job)``: the job is queued in the same step.
        """
        reports = self._reports(client_id)
        if len(reports) + 1 > cap:
            return len(reports)
        reports[view["id"]] = StoredReport(view)
        return None

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        stored = self._reports(client_id).get(report_id)
        return None if stored is None else stored.view

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        """Every report of the client, oldest first."""
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
        """Apply ``changes`` (and store ``content``) if the status is still in ``allowed``."""
        stored = self._reports(client_id).get(view["id"])
        if stored is None or stored.view["status"] not in allowed:
            return False
        stored.view.update(changes)
        if content is not None:
            stored.content = content
        return True


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


class RedisReports(RedisCollection):
    """Reports in Redis, shared by every worker and replica."""

    def __init__(self, engine: StateEngine, clock: Callable[[], float]) -> None:
        super().__init__(engine, "reports", clock)
        self._advance = self.redis.register_script(_ADVANCE)

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
        keys = [self.items_key(client_id), tk(client_id, "reports", "files"), tk(client_id, "keys")]
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
