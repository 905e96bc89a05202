"""``EventArchive`` on Redis: a hash of bodies and a list of ids per client.

Keys, of the tenant (``T`` = ``pin:t:{client}:``), named in ``T keys`` by the
script that writes them so a reset or an idle sandbox's expiry removes them::

    T events          HASH  event id -> the body as delivered
    T events:order    LIST  event ids, newest last (at most ``MAX_EVENTS``)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pin_mock.server.state.event_archive_port import MAX_EVENTS

if TYPE_CHECKING:
    from pin_mock.server.state.redis.keyspace import Keyspace

# KEYS: events, events:order, keys, tenants; ARGV: id, body, max, now, client. One step:
# the body kept, the oldest beyond the bound dropped, the keys named for the reset.
_KEEP = """
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
local max = tonumber(ARGV[3])
while redis.call('LLEN', KEYS[2]) > max do
  redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
end
redis.call('SADD', KEYS[3], KEYS[1], KEYS[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[5])
"""


class RedisEventArchive:
    """The newest ``MAX_EVENTS`` event bodies per client, shared by every worker."""

    def __init__(self, keyspace: Keyspace) -> None:
        self.redis = keyspace.redis
        self.tk = keyspace.tenant_key
        self.tenants = keyspace.key("tenants")
        self.clock = keyspace.clock
        self._keep = self.redis.register_script(_KEEP)

    async def keep(self, client_id: str, event_id: str, body: bytes) -> None:
        keys = [self.tk(client_id, "events"), self.tk(client_id, "events", "order")]
        keys += [self.tk(client_id, "keys"), self.tenants]
        await self._keep(keys=keys, args=[event_id, body, MAX_EVENTS, self.clock(), client_id])

    async def get(self, client_id: str, event_id: str) -> bytes | None:
        return await self.redis.hget(self.tk(client_id, "events"), event_id)
