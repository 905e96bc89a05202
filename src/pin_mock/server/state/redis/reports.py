"""Reports on Redis (the ``ReportStore`` port), shared by every worker and replica.

A ``RedisCollection`` named ``reports`` (``collections.py``: the views, their
order, ``add`` with its quota and the job queued in the same script, ``get``,
``all``) plus the files. ``advance`` is a compare-and-set on the status, so
when two workers finish the same job (one taken over from the other) exactly
one completes it and announces it. Keys, all of the tenant
(``T`` = ``pin:t:{client}:``); each write names the keys it creates in
``T keys``, so a reset or an idle sandbox's expiry (``tenants.py``) removes them::

    T reports        HASH  report id -> the view, JSON (the reset counts it)
    T reports:order  ZSET  report id -> creation number (the order of the list)
    T reports:files  HASH  report id -> the file, once completed
    T seq            a counter numbering creations
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pin_mock.server.state.ports import Job
from pin_mock.server.state.redis.collections import RedisCollection
from pin_mock.server.state.redis.keyspace import encode_job

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace
    from pin_mock.server.state.redis.queue import RedisQueue


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
    """``ReportStore`` in Redis; report jobs go to ``queue``'s stream."""

    def __init__(self, keyspace: Keyspace, queue: RedisQueue) -> None:
        self.views = RedisCollection(keyspace, "reports")
        self.redis = keyspace.redis
        self.tk = keyspace.tenant_key
        self.stream = queue.stream
        self._advance = self.redis.register_script(_ADVANCE)

    async def add(self, client_id: str, view: dict[str, Any], cap: int, job: Job) -> int | None:
        """Store ``view`` and queue ``job`` in one script, unless the client holds ``cap``."""
        return await self.views.add(client_id, view, cap, (self.stream, encode_job(job)))

    async def get(self, client_id: str, report_id: str) -> dict[str, Any] | None:
        return await self.views.get(client_id, report_id)

    async def all(self, client_id: str) -> list[dict[str, Any]]:
        return await self.views.all(client_id)

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
        keys = [self.views.items_key(client_id), tk(client_id, "reports", "files")]
        keys.append(tk(client_id, "keys"))
        # Only the status changes between two looks at a view, and the script checks it.
        new = json.dumps({**view, **changes})
        args = [view["id"], ",".join(allowed), new, b"" if content is None else content]
        return bool(await self._advance(keys=keys, args=args))
